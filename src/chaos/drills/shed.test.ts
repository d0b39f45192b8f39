import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DRILLS } from './scenarios.js';
import { expectedOverload, noFailedOrShed, overloadNote } from './shed.js';
import { base } from './summary-fixture.js';
import type { Summary } from './types.js';

const capacities = new Map([
  ['us-east-1', 1500],
  ['us-west-2', 1500],
]);
const middleThird = [{ region: 'us-east-1', fromMs: 15_000, toMs: 30_000 }];

test('expected shed: the load above what the surviving regions carry, while they alone serve', () => {
  const cases = [
    {
      name: 'lab sizing: one region carries the whole rate',
      rate: 1000,
      outages: middleThird,
      expect: undefined,
    },
    { name: 'no outage', rate: 2500, outages: [], expect: undefined },
    {
      name: 'twice the survivor for a third of the run: a sixth',
      rate: 3000,
      outages: middleThird,
      expect: { rate: 3000, survivingCapacity: 1500, lostRegions: ['us-east-1'], expectedShedShare: 0.1667 },
    },
    {
      name: 'both out for the last 10 s: everything then',
      rate: 1000,
      outages: [
        { region: 'us-east-1', fromMs: 35_000, toMs: 45_000 },
        { region: 'us-west-2', fromMs: 35_000, toMs: 60_000 },
      ],
      expect: {
        rate: 1000,
        survivingCapacity: 0,
        lostRegions: ['us-east-1', 'us-west-2'],
        expectedShedShare: 0.2222,
      },
    },
  ];
  for (const c of cases) {
    assert.deepEqual(expectedOverload(c.rate, capacities, c.outages, 45_000), c.expect, c.name);
  }
});

const summary = (requests: Summary['requests'], overload?: Summary['overload']): Summary => ({
  ...base,
  scenario: 'kong-origins',
  durationS: 45,
  rate: 1000,
  requests,
  sharesByPhase: { outage: { 'us-east-1': 0 } },
  failover: { ...base.failover, detectMs: 1500, edgeShiftMs: 200, dnsShiftMs: 3000 },
  recoveredShare: 0.4,
  restoreSteps: 3,
  overload,
});

test('a shed request is a failed one: the origin-only kong verdict fails on the run measured before the fix', () => {
  // meridian lab --scenario kong --rate 1000 --duration 45, 2 cores: "0 failed" and a PASS.
  const measured = summary({ total: 44_431, ok: 36_740, failed: 0, failedIdempotent: 0, shed: 7691 });
  const failing = DRILLS.get('kong-origins')!
    .checks(measured)
    .filter((c) => !c.pass)
    .map((c) => `${c.name}: ${c.detail}`);
  assert.deepEqual(failing, [
    'no failed idempotent request, no shed request: 0 failed idempotent, 7691 shed of 44431',
  ]);
  const clean = summary({ total: 44_431, ok: 44_431, failed: 0, failedIdempotent: 0, shed: 0 });
  assert.equal(noFailedOrShed(clean).pass, true);
});

test('over capacity the verdict states the expected shed share and holds the run to it', () => {
  const overload = expectedOverload(3000, capacities, middleThird, 45_000)!;
  assert.match(
    overloadNote(overload),
    /3000 req\/s exceed the 1500 req\/s .* while us-east-1 is out: about 16\.7 %/,
  );
  const within = noFailedOrShed(
    summary({ total: 1000, ok: 830, failed: 0, failedIdempotent: 0, shed: 170 }, overload),
  );
  assert.equal(within.pass, true, within.detail);
  assert.match(within.name, /shed at most the expected 16\.7 %/);
  const beyond = noFailedOrShed(
    summary({ total: 1000, ok: 700, failed: 0, failedIdempotent: 0, shed: 300 }, overload),
  );
  assert.equal(beyond.pass, false);
  const failed = noFailedOrShed(
    summary({ total: 1000, ok: 900, failed: 1, failedIdempotent: 1, shed: 99 }, overload),
  );
  assert.equal(failed.pass, false, 'idempotent failures still fail');
});
