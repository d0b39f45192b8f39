import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command } from 'commander';
import { isMeridianError } from '../errors.js';
import { resolveSecret, type SecretSpec, secretOption } from './secret.js';

const dir = mkdtempSync(join(tmpdir(), 'meridian-secret-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec: SecretSpec = { flag: '--api-key', env: 'MERIDIAN_X_KEY', description: 'the key' };

function secretFile(name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

function resolve(opts: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = [];
  const value = resolveSecret(spec, opts, env, (m) => warnings.push(m));
  return { value, warnings };
}

test('precedence: flag, then its file, then env, then env _FILE', () => {
  const file = secretFile('flag.key', 'from-file\n');
  const envFile = secretFile('env.key', 'from-env-file');
  const env = { MERIDIAN_X_KEY: 'from-env', MERIDIAN_X_KEY_FILE: envFile };
  const table = [
    { name: 'flag beats everything', opts: { apiKey: 'from-flag' }, env, expect: 'from-flag' },
    { name: 'file beats env', opts: { apiKeyFile: file }, env, expect: 'from-file' },
    { name: 'env beats env file', opts: {}, env, expect: 'from-env' },
    { name: 'env file last', opts: {}, env: { MERIDIAN_X_KEY_FILE: envFile }, expect: 'from-env-file' },
    { name: 'nothing given', opts: {}, env: {}, expect: undefined },
  ];
  for (const c of table) assert.equal(resolve(c.opts, c.env).value, c.expect, c.name);
});

test('a file holds the secret on its first line; the newline is not part of it', () => {
  assert.equal(resolve({ apiKeyFile: secretFile('crlf.key', 's3cret\r\n') }).value, 's3cret');
  assert.equal(resolve({ apiKeyFile: secretFile('two.key', 'first\nsecond\n') }).value, 'first');
  assert.equal(resolve({ apiKeyFile: secretFile('spaces.key', ' a b ') }).value, ' a b ');
});

test('a group or world readable file is used, with a warning naming it (as ssh)', () => {
  const loose = secretFile('loose.key', 'k', 0o644);
  const { value, warnings } = resolve({ apiKeyFile: loose });
  assert.equal(value, 'k');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /loose\.key is readable by others \(mode 0644\); chmod 600/);
  assert.deepEqual(resolve({ apiKeyFile: secretFile('tight.key', 'k', 0o400) }).warnings, []);
});

test('a missing or empty file is a clear error naming the file, never a stack trace', () => {
  const missing = join(dir, 'nope.key');
  for (const [opts, env, pattern] of [
    [{ apiKeyFile: missing }, {}, /--api-key-file: cannot read secret file .*nope\.key \(no such file\)/],
    [{}, { MERIDIAN_X_KEY_FILE: missing }, /MERIDIAN_X_KEY_FILE: cannot read secret file .*nope\.key/],
    [{ apiKeyFile: secretFile('empty.key', '\n') }, {}, /secret file .*empty\.key is empty/],
  ] as const) {
    assert.throws(
      () => resolve(opts, env),
      (e) => isMeridianError(e) && e.code === 'BAD_ARGUMENT' && pattern.test(e.message),
    );
  }
});

test('the flag and its file together are refused', () => {
  assert.throws(
    () => resolve({ apiKey: 'a', apiKeyFile: secretFile('both.key', 'b') }),
    /give --api-key or --api-key-file, not both/,
  );
});

test('--help names the file form and both environment variables', () => {
  const cmd = secretOption(new Command('x'), { ...spec, value: '<key>' });
  const help = cmd.helpInformation();
  assert.match(help, /--api-key <key>/);
  assert.match(help, /--api-key-file <path>/);
  assert.match(help, /MERIDIAN_X_KEY\b/);
  assert.match(help, /MERIDIAN_X_KEY_FILE/);
  cmd.parse(['--api-key-file', '/tmp/k'], { from: 'user' });
  assert.equal(cmd.opts().apiKeyFile, '/tmp/k');
});
