import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { formatProblem, parseConfigText } from '../../config/index.js';
import { isMeridianError } from '../../errors.js';
import { etcdConnectionFromConfig } from './etcd-client.js';

const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'meridian-etcd-conf-'));
const pem = (name: string) => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${name}-----\n`);
  return path;
};

function parseStore(store: Record<string, unknown>) {
  const { config, problems } = parseConfigText(stringify({ ...base, control: { store } }), 'x.yaml');
  return { store: config?.control.store, problems: problems.map(formatProblem).join('\n') };
}

const https = ['https://127.0.0.1:2379'];

const bad: { name: string; store: Record<string, unknown>; expect: RegExp }[] = [
  {
    name: 'an inline password',
    store: { type: 'etcd', endpoints: https, auth: { user: 'm', password: 'hunter2-hunter2' } },
    expect: /control\.store\.auth\.password: the password goes in passwordEnv or passwordFile/,
  },
  {
    name: 'no password source',
    store: { type: 'etcd', endpoints: https, auth: { user: 'm' } },
    expect: /control\.store\.auth: expected exactly one of passwordEnv, passwordFile/,
  },
  {
    name: 'two password sources',
    store: { type: 'etcd', endpoints: https, auth: { user: 'm', passwordEnv: 'P', passwordFile: 'f' } },
    expect: /exactly one of passwordEnv, passwordFile/,
  },
  {
    name: 'tls with a plain http endpoint',
    store: { type: 'etcd', endpoints: ['http://127.0.0.1:2379'], tls: { ca: 'ca.pem' } },
    expect: /control\.store\.endpoints: with tls, every endpoint must be an https:\/\/ URL/,
  },
  {
    name: 'a certificate without its key',
    store: { type: 'etcd', endpoints: https, tls: { cert: 'c.pem' } },
    expect: /control\.store\.tls: expected both cert and key, or neither/,
  },
];
for (const c of bad) {
  test(`etcd store config: ${c.name} is refused`, () => {
    const { store, problems } = parseStore(c.store);
    assert.equal(store, undefined);
    assert.match(problems, c.expect);
  });
}

test('etcd store config: files and the password are read; a trailing newline is not part of it', () => {
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 's3cret-pass\n', { mode: 0o600 });
  const { store, problems } = parseStore({
    type: 'etcd',
    endpoints: https,
    tls: { ca: pem('CA'), cert: pem('CERT'), key: pem('KEY') },
    auth: { user: 'meridian', passwordFile },
  });
  assert.equal(problems, '');
  assert.equal(store?.type, 'etcd');
  if (store?.type !== 'etcd') return;
  const c = etcdConnectionFromConfig(store, {});
  assert.deepEqual(c.auth, { user: 'meridian', password: 's3cret-pass' });
  assert.match(String(c.tls?.cert), /BEGIN CERT/);
  assert.match(String(c.tls?.ca), /BEGIN CA/);
  const fromEnv = { ...store, auth: { user: 'meridian', passwordEnv: 'ETCD_PW' } };
  assert.equal(etcdConnectionFromConfig(fromEnv, { ETCD_PW: 'from-env' }).auth?.password, 'from-env');
});

test('etcd store config: passwordFile is read as every secret file (first line, mode warning)', () => {
  const passwordFile = join(dir, 'loose-password');
  writeFileSync(passwordFile, 's3cret-pass\r\nnot part of it\n');
  chmodSync(passwordFile, 0o640);
  const store = { type: 'etcd', endpoints: https, auth: { user: 'm', passwordFile } } as const;
  const warnings: string[] = [];
  const c = etcdConnectionFromConfig({ ...store, prefix: '/m/', leaseTtl: 3000 }, {}, (m) =>
    warnings.push(m),
  );
  assert.equal(c.auth?.password, 's3cret-pass');
  assert.match(warnings.join('\n'), /loose-password is readable by others \(mode 0640\); chmod 600/);
});

test('etcd store config: a missing variable or file names the config path, not the secret', () => {
  const { store } = parseStore({
    type: 'etcd',
    endpoints: https,
    auth: { user: 'm', passwordEnv: 'ETCD_PW' },
  });
  if (store?.type !== 'etcd') return assert.fail('config refused');
  const failure = (s: typeof store, env: NodeJS.ProcessEnv = {}) => {
    try {
      etcdConnectionFromConfig(s, env);
    } catch (e) {
      assert.ok(isMeridianError(e) && e.code === 'CONFIG_INVALID', String(e));
      return e.message;
    }
    return assert.fail('accepted');
  };
  assert.match(failure(store), /control\.store\.auth\.passwordEnv: environment variable ETCD_PW is not set/);
  assert.match(
    failure({ ...store, auth: { user: 'm', passwordFile: join(dir, 'nope') } }),
    /control\.store\.auth\.passwordFile: cannot read secret file .*nope \(no such file\)/,
  );
  assert.match(
    failure({ ...store, tls: { ca: join(dir, 'no-ca.pem') } }, { ETCD_PW: 'x' }),
    /control\.store\.tls\.ca: cannot read/,
  );
});
