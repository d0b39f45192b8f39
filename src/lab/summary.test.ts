import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumData } from './index.js';
import { dataSummary, resolverShift } from './summary.js';

test('resolverShift: the last answer users got that still named the dead region, per cohort', () => {
  const kill = { region: 'east', t: 10_000, back: 30_000 };
  const answers = [
    { t: 9_000, cohort: 'home ttl 5', regions: ['east'] }, // before the kill: not counted
    { t: 12_000, cohort: 'home ttl 5', regions: ['east'] },
    { t: 14_500, cohort: 'home ttl 5', regions: ['west'] },
    { t: 13_000, cohort: 'home+fallback ttl 5', regions: ['west', 'east'] }, // named second: still named
    { t: 31_000, cohort: 'home ttl 5', regions: ['east'] }, // back by then
  ];
  assert.equal(resolverShift(answers, 'home ttl 5', kill), 2000);
  assert.equal(resolverShift(answers, 'home+fallback ttl 5', kill), 3000);
  assert.equal(resolverShift(answers, null, kill), 3000, 'every cohort');
  assert.equal(resolverShift(answers, 'home ttl 30', kill), 0, 'no answer named it after the kill');
  assert.equal(resolverShift(undefined, null, kill), null, 'not measured');
});

test('dataSummary: the history check as the summary carries it; null when no check ran', () => {
  const check = {
    acknowledged: 12,
    lost: 1,
    divergent: 2,
    staleReads: 3,
    lwwViolations: 0,
    anomalies: [{ kind: 'lost' as const, key: 'wl:u/i1', detail: 'gone' }],
  };
  assert.deepEqual(dataSummary(check), { acknowledged: 12, lost: 1, divergent: 2, staleReads: 3 });
  assert.equal(dataSummary(null), null);
});

test('sumData: the scenarios that checked data, added up', () => {
  const a = { acknowledged: 10, lost: 0, divergent: 1, staleReads: 0 };
  const b = { acknowledged: 5, lost: 2, divergent: 0, staleReads: 4 };
  assert.deepEqual(sumData([a, null, b]), { acknowledged: 15, lost: 2, divergent: 1, staleReads: 4 });
  assert.equal(sumData([null, null]), null);
});
