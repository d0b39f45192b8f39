import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRORS, MeridianError } from './errors.js';

test('every error has a status in 4xx/5xx and a message', () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.ok(spec.httpStatus >= 400 && spec.httpStatus < 600, code);
    assert.ok(spec.message.length > 0, code);
  }
});

test('MeridianError carries its code, spec and details', () => {
  const e = new MeridianError('CONFIG_INVALID', 'bad file', ['a.yaml:1:1: x']);
  assert.equal(e.code, 'CONFIG_INVALID');
  assert.equal(e.spec.httpStatus, 500);
  assert.deepEqual(e.toJSON(), { code: 'CONFIG_INVALID', message: 'bad file', details: ['a.yaml:1:1: x'] });
  assert.equal(new MeridianError('OVERLOADED').message, 'over capacity, try again later');
});
