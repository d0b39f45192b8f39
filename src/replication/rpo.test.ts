import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRpo } from './rpo.js';

const cases = [
  { name: 'within the RPO', input: { lag: 120, rpo: 5000, requireKnown: false }, expect: true },
  { name: 'at the RPO', input: { lag: 5000, rpo: 5000, requireKnown: false }, expect: true },
  { name: 'above the RPO', input: { lag: 7300, rpo: 5000, requireKnown: false }, expect: false },
  { name: 'unknown, not required', input: { lag: null, rpo: 5000, requireKnown: false }, expect: true },
  { name: 'unknown, required', input: { lag: undefined, rpo: 5000, requireKnown: true }, expect: false },
];
for (const c of cases) {
  test(`checkRpo: ${c.name}`, () => {
    const r = checkRpo('us-west-2', c.input.lag, c.input.rpo, c.input.requireKnown);
    assert.equal(r.ok, c.expect);
    assert.match(r.reason, /us-west-2/);
  });
}
