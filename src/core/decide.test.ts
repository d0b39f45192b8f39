import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from './decide.js';
import type { Client, Snapshot } from './model.js';
import {
  east,
  newYork,
  region,
  snapshot,
  stanford,
  sydney,
  twoRegions,
  unknown,
  west,
} from './test-fixtures.js';

interface Case {
  name: string;
  client: Client;
  snapshot: Snapshot;
  expect: { region: string; reason: string; home?: string; shed?: boolean; order?: string[] };
}

const cases: Case[] = [
  {
    name: 'California by territory',
    client: stanford,
    snapshot: twoRegions(),
    expect: { region: 'us-west-2', reason: 'territory' },
  },
  {
    name: 'New York by territory',
    client: newYork,
    snapshot: twoRegions(),
    expect: { region: 'us-east-1', reason: 'territory' },
  },
  {
    name: 'Sydney to nearest',
    client: sydney,
    snapshot: twoRegions(),
    expect: { region: 'us-west-2', reason: 'nearest' },
  },
  {
    name: 'unknown location to default',
    client: unknown,
    snapshot: twoRegions(),
    expect: { region: 'us-east-1', reason: 'default' },
  },
  {
    name: 'home DOWN moves to the other region',
    client: newYork,
    snapshot: twoRegions({ health: 'DOWN' }),
    expect: { region: 'us-west-2', reason: 'health', home: 'us-east-1', order: ['us-west-2'] },
  },
  {
    name: 'dial 0 spills every client',
    client: newYork,
    snapshot: twoRegions({ dial: 0 }),
    expect: { region: 'us-west-2', reason: 'spill', home: 'us-east-1' },
  },
  {
    name: 'all DOWN still answers the home region',
    client: newYork,
    snapshot: twoRegions({ health: 'DOWN' }, { health: 'DOWN' }),
    expect: { region: 'us-east-1', reason: 'territory', order: ['us-east-1', 'us-west-2'] },
  },
  {
    name: 'DEGRADED is still chosen',
    client: newYork,
    snapshot: twoRegions({ health: 'DEGRADED' }),
    expect: { region: 'us-east-1', reason: 'territory', order: ['us-east-1', 'us-west-2'] },
  },
  {
    name: 'PARTITIONED keeps its own users',
    client: newYork,
    snapshot: twoRegions({ health: 'PARTITIONED' }),
    expect: { region: 'us-east-1', reason: 'territory' },
  },
  {
    name: 'no headroom anywhere with shed: stays home and is shed',
    client: newYork,
    snapshot: twoRegions({ dial: 0, demand: 900 }, { capacity: 1000, demand: 1000 }),
    expect: { region: 'us-east-1', reason: 'overflow', shed: true },
  },
  {
    name: 'no headroom anywhere with overload: goes next',
    client: newYork,
    snapshot: {
      ...twoRegions({ dial: 0, demand: 900 }, { demand: 1000 }),
      policy: { ...twoRegions().policy, overflow: 'overload' },
    },
    expect: { region: 'us-west-2', reason: 'overflow', shed: false },
  },
  {
    name: 'a region named __proto__ works',
    client: sydney,
    snapshot: snapshot([region('__proto__', -33, 151), east()]),
    expect: { region: '__proto__', reason: 'nearest', order: ['__proto__', 'us-east-1'] },
  },
  {
    name: 'retry order is by distance from the client',
    client: stanford,
    snapshot: snapshot([east(), west(), region('eu-west-1', 53.3, -6.3)]),
    expect: { region: 'us-west-2', reason: 'territory', order: ['us-west-2', 'us-east-1', 'eu-west-1'] },
  },
];

for (const c of cases) {
  test(`decide: ${c.name}`, () => {
    const d = decide(c.client, c.snapshot);
    assert.equal(d.candidates[0].region, c.expect.region);
    assert.equal(d.candidates[0].reason, c.expect.reason);
    assert.equal(d.ttl, 30);
    if (c.expect.home) assert.equal(d.home, c.expect.home);
    if (c.expect.shed !== undefined) assert.equal(d.shed, c.expect.shed);
    if (c.expect.order)
      assert.deepEqual(
        d.candidates.map((x) => x.region),
        c.expect.order,
      );
  });
}

test('decide: spill never exceeds the receiving region headroom', () => {
  // East keeps 0 %: its 1000 req/s must go west, which has room for 300 only.
  const snap = twoRegions({ dial: 0, demand: 1000 }, { capacity: 1000, demand: 700 });
  let moved = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const client: Client = { subnet: `10.${i >> 8}.${i & 255}.0/24`, location: newYork.location };
    if (decide(client, snap).candidates[0].region === 'us-west-2') moved++;
  }
  assert.ok(Math.abs(moved / n - 0.3) < 0.02, `moved share ${moved / n}`);
});

test('decide: every candidate appears once', () => {
  const d = decide(newYork, snapshot([east(), west(), region('eu-west-1', 53.3, -6.3)]));
  assert.equal(new Set(d.candidates.map((c) => c.region)).size, d.candidates.length);
});

test('decide: no regions gives no candidates', () => {
  assert.deepEqual(decide(newYork, snapshot([])).candidates, []);
});

test('decide: a DOWN region is not even a retry candidate', () => {
  const d = decide(stanford, twoRegions({ health: 'DOWN' }));
  assert.deepEqual(
    d.candidates.map((c) => c.region),
    ['us-west-2'],
  );
  assert.ok(west());
});
