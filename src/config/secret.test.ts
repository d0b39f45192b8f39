import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BearerSecret, readSecret, secretRef } from './secret.js';

const SECRET = 'a-secret-of-enough-length';

test('secretRef accepts env: and file: only, never the secret itself', () => {
  for (const ok of ['env:MY_KEY', 'file:/run/secrets/key', 'file:relative.key'])
    assert.ok(secretRef.safeParse(ok).success, ok);
  for (const bad of [SECRET, 'env:', 'env:1BAD', 'file:', ''])
    assert.ok(!secretRef.safeParse(bad).success, bad);
});

test('readSecret: from the environment or the first line of a file; clear errors without the secret', () => {
  assert.equal(readSecret('env:K', 'x', { K: SECRET }), SECRET);
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-secret-')), 'key');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  assert.equal(readSecret(`file:${file}`, 'x'), SECRET);
  assert.throws(
    () => readSecret('env:MISSING', 'edge.peers.key', {}),
    /edge\.peers\.key: environment variable MISSING is not set/,
  );
  assert.throws(
    () => readSecret('file:/nonexistent/key', 'edge.peers.key'),
    /cannot read \/nonexistent\/key \(ENOENT\)/,
  );
  assert.throws(
    () => readSecret('env:K', 'x', { K: 'short' }),
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
