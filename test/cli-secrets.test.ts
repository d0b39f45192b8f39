// Every secret the CLI takes has a file form and an environment variable
// (src/cli/secret.ts): checked through the real commands, against a real control.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync } from './control-helpers.js';
import { runCli } from './helpers/cli.js';

test('secret flags: --X-file and env forms work, are in --help, and fail clearly', async (t) => {
  const control = await startTestControl();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cli-secrets-'));
  t.after(async () => {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const tight = join(dir, 'viewer.token');
  writeFileSync(tight, `${TOKENS.viewer}\n`, { mode: 0o600 });
  const loose = join(dir, 'loose.token');
  writeFileSync(loose, `${TOKENS.viewer}\n`);
  chmodSync(loose, 0o644);
  // Nothing inherited: each case gives its token one way only.
  const clean = { MERIDIAN_TOKEN: '', MERIDIAN_TOKEN_FILE: '', MERIDIAN_CONTROL: control.url };

  await t.test('meridian status --token-file, MERIDIAN_TOKEN_FILE, MERIDIAN_TOKEN', async () => {
    for (const [args, env] of [
      [['--token-file', tight], {}],
      [[], { MERIDIAN_TOKEN_FILE: tight }],
      [[], { MERIDIAN_TOKEN: TOKENS.viewer }],
    ] as const) {
      const r = await runCliAsync(['status', '--json', ...args], { ...clean, ...env });
      assert.equal(r.status, 0, `${args} ${JSON.stringify(env)}: ${r.stderr}`);
      assert.ok(Array.isArray(JSON.parse(r.stdout).regions));
      assert.equal(r.stderr, '', 'no warning for a 0600 file or the environment');
    }
  });

  await t.test('a group/world readable token file works, with a warning naming it', async () => {
    const r = await runCliAsync(['status', '--json', '--token-file', loose], clean);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: secret file .*loose\.token is readable by others \(mode 0644\); chmod 600/,
    );
  });

  await t.test('the flag beats the environment (a wrong env token is not used)', async () => {
    const r = await runCliAsync(['status', '--json', '--token-file', tight], {
      ...clean,
      MERIDIAN_TOKEN: 'wrong-token-0123456789',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('a missing file: a clear error naming it, for every command that takes a secret', () => {
    const missing = join(dir, 'nope');
    const cases: [string[], RegExp][] = [
      [['status', '--token-file', missing], /--token-file: cannot read secret file .*nope \(no such file\)/],
      [['evacuate', 'us-east-1', '--dry-run', '--token-file', missing], /--token-file: cannot read/],
      [['dial', 'us-east-1', '50', '--token-file', missing], /--token-file: cannot read/],
      [['edge', '--region', 'us-east-1', '--control', control.url, '--token-file', missing], /--token-file/],
      [['dns', '--control', control.url, '--token-file', missing], /--token-file: cannot read/],
      [
        [
          'dns',
          'sync',
          '--provider',
          'powerdns',
          '--api-url',
          'http://127.0.0.1:1',
          '--api-key-file',
          missing,
        ],
        /--api-key-file: cannot read secret file .*nope/,
      ],
      [
        ['dns', 'sync', '--provider', 'rfc2136', '--server', '127.0.0.1:1', '--tsig-name', 'k'],
        /rfc2136 needs --tsig-secret\n.*--tsig-secret-file, env MERIDIAN_TSIG_SECRET or env MERIDIAN_TSIG_SECRET_FILE/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = runCli(args, { ...clean, MERIDIAN_CONFIG: 'examples/two-regions.yaml' });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`); // a usage error: the flags are wrong
      assert.match(r.stderr, pattern, args.join(' '));
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
    }
  });

  await t.test('--help names the file form and the variables', () => {
    const cases: [string[], string[]][] = [
      [['status'], ['--token-file', 'MERIDIAN_TOKEN_FILE']],
      [['evacuate'], ['--token-file']],
      [['dns'], ['--token-file']],
      [['edge'], ['--token-file']],
      [
        ['dns', 'sync'],
        ['--token-file', '--api-key-file', '--tsig-secret-file', 'MERIDIAN_TSIG_SECRET_FILE'],
      ],
      [['replication'], ['--redis-password-file', '--nats-token-file', 'MERIDIAN_NATS_PASSWORD_FILE']],
    ];
    for (const [cmd, words] of cases) {
      const help = runCli([...cmd, '--help']).stdout;
      for (const w of words) assert.ok(help.includes(w), `meridian ${cmd.join(' ')} --help names ${w}`);
    }
  });
});
