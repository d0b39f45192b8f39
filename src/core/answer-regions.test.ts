import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AnswerPolicy, answerRegions } from './answer-regions.js';
import { decide } from './decide.js';
import { type Client, HEALTH_STATES, type RegionState, type Snapshot } from './model.js';
import { east, newYork, region, snapshot, stanford, twoRegions, west } from './test-fixtures.js';

const eu = (extra: Partial<RegionState> = {}) => region('eu-west-1', 53.3, -6.3, extra);
const three = (e: Partial<RegionState> = {}, w: Partial<RegionState> = {}, x: Partial<RegionState> = {}) =>
  snapshot([east(e), west(w), eu(x)]);
const all = () => true;

interface Case {
  name: string;
  client: Client;
  snapshot: Snapshot;
  policy: AnswerPolicy;
  hasAddresses?: (region: string) => boolean;
  expect: { region: string; fallback: string | null } | null;
}

const cases: Case[] = [
  {
    name: 'home: one region, as before',
    client: newYork,
    snapshot: twoRegions(),
    policy: 'home',
    expect: { region: 'us-east-1', fallback: null },
  },
  {
    name: 'home+fallback: the nearest other region follows',
    client: newYork,
    snapshot: twoRegions(),
    policy: 'home+fallback',
    expect: { region: 'us-east-1', fallback: 'us-west-2' },
  },
  {
    name: 'home+fallback: the fallback is the next candidate, nearest to the client',
    client: stanford,
    snapshot: three(),
    policy: 'home+fallback',
    expect: { region: 'us-west-2', fallback: 'us-east-1' },
  },
  {
    name: 'a DOWN region is never the fallback: the next one is',
    client: stanford,
    snapshot: three({ health: 'DOWN' }),
    policy: 'home+fallback',
    expect: { region: 'us-west-2', fallback: 'eu-west-1' },
  },
  {
    name: 'a region dialled to 0 is never the fallback',
    client: stanford,
    snapshot: three({ dial: 0 }),
    policy: 'home+fallback',
    expect: { region: 'us-west-2', fallback: 'eu-west-1' },
  },
  {
    name: 'no other healthy region: home only',
    client: newYork,
    snapshot: twoRegions({}, { health: 'DOWN' }),
    policy: 'home+fallback',
    expect: { region: 'us-east-1', fallback: null },
  },
  {
    name: 'the only other region dialled to 0: home only',
    client: newYork,
    snapshot: twoRegions({}, { dial: 0 }),
    policy: 'home+fallback',
    expect: { region: 'us-east-1', fallback: null },
  },
  {
    name: 'home DOWN: the answered region is the survivor, and the dead home is not its fallback',
    client: newYork,
    snapshot: twoRegions({ health: 'DOWN' }),
    policy: 'home+fallback',
    expect: { region: 'us-west-2', fallback: null },
  },
  {
    name: 'home evacuated (dial 0): answered elsewhere, the evacuated home is not the fallback',
    client: newYork,
    snapshot: three({ dial: 0 }),
    policy: 'home+fallback',
    expect: { region: 'us-west-2', fallback: 'eu-west-1' },
  },
  {
    name: 'regions without addresses of the family are skipped, as answer and as fallback',
    client: stanford,
    snapshot: three(),
    policy: 'home+fallback',
    hasAddresses: (r) => r !== 'us-west-2' && r !== 'us-east-1',
    expect: { region: 'eu-west-1', fallback: null },
  },
  {
    name: 'no region has addresses: nothing to answer',
    client: stanford,
    snapshot: three(),
    policy: 'home+fallback',
    hasAddresses: () => false,
    expect: null,
  },
];

for (const c of cases) {
  test(c.name, () => {
    const decision = decide(c.client, c.snapshot);
    assert.deepEqual(answerRegions(decision, c.snapshot, c.policy, c.hasAddresses ?? all), c.expect);
  });
}

test('the fallback is never the answered region, never DOWN and never dialled to 0, on any mix of states', () => {
  const healths = HEALTH_STATES;
  for (const e of healths)
    for (const w of healths)
      for (const x of healths)
        for (const dial of [0, 50, 100]) {
          const snap = three({ health: e, dial }, { health: w }, { health: x });
          for (const client of [newYork, stanford]) {
            const got = answerRegions(decide(client, snap), snap, 'home+fallback', all)!;
            if (got.fallback === null) continue;
            const f = snap.regions.get(got.fallback)!;
            assert.notEqual(got.fallback, got.region);
            assert.notEqual(f.health, 'DOWN');
            assert.ok(f.dial > 0);
          }
        }
});
