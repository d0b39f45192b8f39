import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { parseConfigText } from '../config/index.js';
import { isMeridianError } from '../errors.js';
import { accessTable } from './access.js';
import { mayReportFor, ROLES, TokenAuth } from './auth.js';

const base = readFileSync('examples/two-regions.yaml', 'utf8');
const withTokens = (tokens: string) => `${base}\ncontrol:\n  tokens:\n${tokens}`;
const regions = ['us-east-1', 'us-west-2'];
const secret = 'x'.repeat(20);

test('config: an agent token must say which regions it reports for', () => {
  const cases: { tokens: string; problem?: RegExp }[] = [
    {
      tokens: `    - { name: edge, role: agent, token: ${secret} }`,
      problem: /control\.tokens\[0\]\.regions: agent token "edge" must list the regions/,
    },
    { tokens: `    - { name: edge, role: agent, token: ${secret}, regions: [us-east-1] }` },
    { tokens: `    - { name: any, role: agent, token: ${secret}, regions: ['*'] }` },
    { tokens: `    - { name: dns, role: agent, token: ${secret}, regions: [] }` },
    {
      tokens: `    - { name: edge, role: agent, token: ${secret}, regions: [eu-west-9] }`,
      problem:
        /control\.tokens\[0\]\.regions\[0\]: expected a region id from regions \(or '\*'\), got "eu-west-9"/,
    },
    {
      tokens: `    - { name: ops, role: operator, token: ${secret}, regions: [us-east-1] }`,
      problem: /control\.tokens\[0\]\.regions: only agent tokens report for regions/,
    },
    { tokens: `    - { name: root, role: admin, token: ${secret} }` },
  ];
  for (const c of cases) {
    const { config, problems } = parseConfigText(withTokens(c.tokens), 'm.yaml');
    const text = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    if (c.problem) assert.match(text, c.problem, c.tokens);
    else assert.ok(config, `${c.tokens}: ${text}`);
  }
});

const auth = (env: string) => new TokenAuth({ tokens: [] } as never, { MERIDIAN_TOKENS: env }, regions);
const bearer = (t: string) => `Bearer ${t}`;

test('MERIDIAN_TOKENS: name:role:token, agents as name:agent@REGION[+REGION]:token', () => {
  const a = auth(
    `east:agent@us-east-1:${secret}1,both:agent@us-east-1+us-west-2:${secret}2,any:agent@*:${secret}3,dns:agent@:${secret}4,root:admin:${secret}5`,
  );
  const east = a.authenticate(bearer(`${secret}1`));
  assert.deepEqual([east.role, east.regions], ['agent', ['us-east-1']]);
  assert.ok(mayReportFor(east, 'us-east-1'));
  assert.ok(!mayReportFor(east, 'us-west-2'));
  assert.ok(mayReportFor(a.authenticate(bearer(`${secret}2`)), 'us-west-2'));
  assert.ok(mayReportFor(a.authenticate(bearer(`${secret}3`)), 'us-west-2'));
  assert.ok(!mayReportFor(a.authenticate(bearer(`${secret}4`)), 'us-east-1'));
  const root = a.authenticate(bearer(`${secret}5`));
  assert.equal(root.role, 'admin');
  assert.ok(!mayReportFor(root, 'us-east-1'), 'only agents report');
  assert.equal(a.authorize(root, ROLES.operate, 'x'), root);

  for (const [entry, why] of [
    [`edge:agent:${secret}`, /needs @REGION/],
    [`edge:agent@eu-west-9:${secret}`, /unknown region/],
    [`ops:operator@us-east-1:${secret}`, /only agent tokens take @REGION/],
    [`x:superuser:${secret}`, /unknown role/],
    ['x:viewer:short', /shorter than 16/],
  ] as const) {
    assert.throws(
      () => auth(entry),
      (e) => isMeridianError(e) && e.code === 'CONFIG_INVALID' && why.test(`${e.message} ${e.details}`),
      entry,
    );
  }
});

test('admin may do all an operator may; agents report, people do not', () => {
  for (const roles of Object.values(ROLES))
    if (roles.includes('operator')) assert.ok(roles.includes('admin'), roles.join());
  assert.deepEqual(ROLES.report, ['agent']);
  assert.ok(!ROLES.operate.includes('viewer') && !ROLES.operate.includes('agent'));
});

test('a route that says neither roles nor public is refused when it is registered', async () => {
  const app = Fastify();
  accessTable(app);
  assert.throws(() => app.get('/v1/new', async () => 'open'), /neither roles nor public/);
  app.get('/v1/ok', { config: { roles: ROLES.read } }, async () => 'ok');
  await app.close();
});

describe('control.tokens[].file: a token read from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-tokens-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = (name: string, content: string, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  };
  const load = (tokens: string) => {
    const { config, problems } = parseConfigText(withTokens(tokens), 'm.yaml');
    return { config, text: problems.map((p) => `${p.path}: ${p.message}`).join('\n') };
  };
  const start = (tokens: string, warn: (m: string) => void = () => {}) => {
    const { config, text } = load(tokens);
    assert.ok(config, text);
    return new TokenAuth(config.control, {}, regions, warn);
  };

  test('the schema takes exactly one of token, env, file', () => {
    assert.equal(load(`    - { name: ops, role: operator, file: /run/secrets/ops }`).text, '');
    for (const both of [`token: ${secret}, file: /f`, 'env: OPS_TOKEN, file: /f', ''])
      assert.match(
        load(`    - { name: ops, role: operator, ${both} }`).text,
        /control\.tokens\[0\]: expected exactly one of token, env, file/,
        both,
      );
  });

  test("the file's first line is the token; its role and regions hold", () => {
    const path = tokenFile('edge.token', `${secret}e\r\n`);
    const a = start(`    - { name: edge, role: agent, file: ${path}, regions: [us-east-1] }`);
    const edge = a.authenticate(bearer(`${secret}e`));
    assert.deepEqual([edge.name, edge.role, edge.regions], ['edge', 'agent', ['us-east-1']]);
    assert.throws(() => a.authenticate(bearer(secret)), /unknown bearer token/);
  });

  test('a group or world readable file is used with a warning naming it', () => {
    const path = tokenFile('loose.token', `${secret}l\n`, 0o644);
    const warnings: string[] = [];
    const a = start(`    - { name: ops, role: operator, file: ${path} }`, (m) => warnings.push(m));
    assert.equal(a.authenticate(bearer(`${secret}l`)).name, 'ops');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /loose\.token is readable by others \(mode 0644\); chmod 600/);
  });

  test('a missing or short file is a config error naming the entry and the file, not the secret', () => {
    const missing = join(dir, 'nope.token');
    const short = tokenFile('short.token', 'tiny-secret\n');
    for (const [path, why] of [
      [missing, /^control\.tokens\[1\]\.file: cannot read secret file .*nope\.token \(no such file\)$/],
      [short, /^control\.tokens\[1\]\.file: expected a secret of at least 16 characters$/],
    ] as const)
      assert.throws(
        () =>
          start(
            `    - { name: root, role: admin, token: ${secret} }\n    - { name: ops, role: operator, file: ${path} }`,
          ),
        (e) => isMeridianError(e) && e.code === 'CONFIG_INVALID' && why.test(e.message),
        path,
      );
  });
});
