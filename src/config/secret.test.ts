import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isMeridianError } from '../errors.js';
import { BearerSecret, readSecret, readSecretFile, secretRef } from './secret.js';

const SECRET = 'a-secret-of-enough-length';

test('secretRef accepts env: and file: only, never the secret itself', () => {
  for (const ok of ['env:MY_KEY', 'file:/run/secrets/key', 'file:relative.key'])
    assert.ok(secretRef.safeParse(ok).success, ok);
  for (const bad of [SECRET, 'env:', 'env:1BAD', 'file:', ''])
    assert.ok(!secretRef.safeParse(bad).success, bad);
});

test('readSecret: from the environment or the first line of a file; clear errors without the secret', () => {
  assert.equal(readSecret('env:K', 'x', { env: { K: SECRET } }), SECRET);
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-secret-')), 'key');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  assert.equal(readSecret(`file:${file}`, 'x'), SECRET);
  assert.throws(
    () => readSecret('env:MISSING', 'edge.peers.key', { env: {} }),
    /edge\.peers\.key: environment variable MISSING is not set/,
  );
  assert.throws(
    () => readSecret('file:/nonexistent/key', 'edge.peers.key'),
    /edge\.peers\.key: cannot read secret file \/nonexistent\/key \(no such file\)/,
  );
  assert.throws(
    () => readSecret('env:K', 'x', { env: { K: 'short' } }),
    (e: Error) => /at least 16/.test(e.message) && !e.message.includes('short'),
  );
});

test('BearerSecret: missing, wrong or ok', () => {
  const b = new BearerSecret(SECRET);
  assert.equal(b.check(undefined), 'missing');
  assert.equal(b.check(`Basic ${SECRET}`), 'missing');
  assert.equal(b.check('Bearer nope'), 'wrong');
  assert.equal(b.check(`Bearer ${SECRET}x`), 'wrong');
  assert.equal(b.check(`bearer ${SECRET}`), 'ok');
});

describe('readSecretFile: the one reader of secret files (config and CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-secret-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  };
  const read = (path: string, options: { code?: 'CONFIG_INVALID' | 'BAD_ARGUMENT' } = {}) => {
    const warnings: string[] = [];
    const secret = readSecretFile(path, 'control.tokens[0].file', {
      ...options,
      warn: (m) => warnings.push(m),
    });
    return { secret, warnings };
  };

  test('the first line, its trailing CR/LF stripped, nothing else touched', () => {
    for (const [content, expect] of [
      [`${SECRET}\n`, SECRET],
      [`${SECRET}\r\n`, SECRET],
      [`${SECRET}\r\nsecond line\n`, SECRET],
      [SECRET, SECRET],
      [` ${SECRET} `, ` ${SECRET} `],
    ] as const)
      assert.equal(read(file('k', content)).secret, expect, JSON.stringify(content));
  });

  test('a group or world readable file is used with a warning naming it; 0600 and 0400 are quiet', () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      const { secret, warnings } = read(file(`loose-${mode.toString(8)}`, SECRET, mode));
      assert.equal(secret, SECRET);
      assert.equal(warnings.length, 1, mode.toString(8));
      assert.match(warnings[0], /loose-\d+ is readable by others \(mode 0\d{3}\); chmod 600 /);
      assert.ok(!warnings[0].includes(SECRET));
    }
    for (const mode of [0o600, 0o400]) assert.deepEqual(read(file('tight', SECRET, mode)).warnings, []);
  });

  test('a missing file is an error naming the config path and the file, CONFIG_INVALID by default', () => {
    const missing = join(dir, 'nope.token');
    assert.throws(
      () => read(missing),
      (e) =>
        isMeridianError(e) &&
        e.code === 'CONFIG_INVALID' &&
        /^control\.tokens\[0\]\.file: cannot read secret file .*nope\.token \(no such file\)$/.test(
          e.message,
        ),
    );
    assert.throws(
      () => read(missing, { code: 'BAD_ARGUMENT' }),
      (e) => isMeridianError(e) && e.code === 'BAD_ARGUMENT',
    );
  });

  test('an empty first line is an error naming the file, never echoing the rest', () => {
    assert.throws(
      () => read(file('empty', `\n${SECRET}\n`)),
      (e) =>
        isMeridianError(e) && /secret file .*empty is empty/.test(e.message) && !e.message.includes(SECRET),
    );
  });
});

test('readSecret: a file: ref goes through the same reader (warning, error naming the file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-secret-ref-'));
  const path = join(dir, 'peer.key');
  writeFileSync(path, `${SECRET}\n`, { mode: 0o644 });
  chmodSync(path, 0o644);
  const warnings: string[] = [];
  assert.equal(readSecret(`file:${path}`, 'edge.peers.key', { warn: (m) => warnings.push(m) }), SECRET);
  assert.match(warnings.join(), /peer\.key is readable by others \(mode 0644\)/);
  rmSync(dir, { recursive: true, force: true });
});
