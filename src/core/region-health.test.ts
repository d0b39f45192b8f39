import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Health } from './model.js';
import {
  type EdgeView,
  evaluateRegions,
  type HealthThresholds,
  type HealthTrack,
  observeRegion,
  type Vantage,
} from './region-health.js';

const t: HealthThresholds = {
  fallAfterMs: 1000,
  riseAfterMs: 10_000,
  staleAfterMs: 3000,
  degradedErrorRate: 0.05,
  degradedP99Ms: 1000,
};
const now = 100_000;
const edge = (extra: Partial<EdgeView> = {}, peers: [string, boolean][] = []): EdgeView => ({
  at: now,
  originsTotal: 2,
  originsHealthy: 2,
  errorRate: 0,
  p99Ms: 20,
  peers: new Map(peers),
  ...extra,
});
const vantage = (reports: [string, EdgeView][], witness: [string, boolean][] = [], at = now): Vantage => ({
  reports: new Map(reports),
  witness: new Map(witness.map(([id, reachable]) => [id, { at, reachable }])),
});

const cases: { name: string; input: Vantage; expect: Health }[] = [
  {
    name: 'all reports good',
    input: vantage(
      [
        ['east', edge({}, [['west', true]])],
        ['west', edge({}, [['east', true]])],
      ],
      [['east', true]],
    ),
    expect: 'HEALTHY',
  },
  {
    name: 'its own edge sees every origin failing',
    input: vantage(
      [
        ['east', edge({ originsHealthy: 0 })],
        ['west', edge({}, [['east', true]])],
      ],
      [['east', true]],
    ),
    expect: 'DOWN',
  },
  {
    name: 'the other region and the witness cannot reach it',
    input: vantage([['west', edge({}, [['east', false]])]], [['east', false]]),
    expect: 'DOWN',
  },
  {
    name: 'only the other region cannot reach it: partitioned',
    input: vantage(
      [
        ['east', edge({}, [['west', false]])],
        ['west', edge({}, [['east', false]])],
      ],
      [['east', true]],
    ),
    expect: 'PARTITIONED',
  },
  {
    name: 'only the witness cannot reach it: degraded, not down',
    input: vantage(
      [
        ['east', edge()],
        ['west', edge({}, [['east', true]])],
      ],
      [['east', false]],
    ),
    expect: 'DEGRADED',
  },
  {
    name: 'a stale report of the other region does not count',
    input: vantage(
      [
        ['west', edge({ at: now - 10_000 }, [['east', false]])],
        ['east', edge()],
      ],
      [['east', false]],
    ),
    expect: 'DEGRADED',
  },
  {
    name: 'error rate above the threshold',
    input: vantage([['east', edge({ errorRate: 0.2 })]], [['east', true]]),
    expect: 'DEGRADED',
  },
  {
    name: 'one origin of two failing',
    input: vantage([['east', edge({ originsHealthy: 1 })]]),
    expect: 'DEGRADED',
  },
];

for (const c of cases) {
  test(`observeRegion: ${c.name}`, () => {
    assert.equal(observeRegion('east', c.input, now, t).health, c.expect);
  });
}

test('hysteresis: DOWN after fallAfter, HEALTHY again only after riseAfter', () => {
  const ids = ['east', 'west'];
  const bad = (at: number) =>
    vantage(
      [
        ['east', edge({ at, originsHealthy: 0 })],
        ['west', edge({ at }, [['east', true]])],
      ],
      [],
      at,
    );
  const good = (at: number) =>
    vantage(
      [
        ['east', edge({ at })],
        ['west', edge({ at })],
      ],
      [],
      at,
    );
  let tracks: Map<string, HealthTrack> = new Map();
  const run = (v: Vantage, at: number) => {
    tracks = evaluateRegions(tracks, ids, v, at, t);
    return tracks.get('east')!.health;
  };
  assert.equal(run(bad(0), 0), 'HEALTHY');
  assert.equal(run(bad(500), 500), 'HEALTHY');
  assert.equal(run(bad(1000), 1000), 'DOWN');
  assert.equal(run(good(2000), 2000), 'DOWN');
  assert.equal(run(bad(3000), 3000), 'DOWN', 'a relapse restarts the rise timer');
  assert.equal(run(good(4000), 4000), 'DOWN');
  assert.equal(run(good(13_000), 13_000), 'DOWN');
  assert.equal(run(good(14_000), 14_000), 'HEALTHY');
});

test('the last region that is not DOWN is never declared DOWN', () => {
  const ids = ['east', 'west'];
  const dead = edge({ originsHealthy: 0 });
  let tracks = new Map<string, HealthTrack>([
    ['west', { health: 'DOWN', why: 'gone', since: 0 }],
    ['east', { health: 'HEALTHY', why: 'ok', since: 0 }],
  ]);
  for (const at of [now, now + 2000]) {
    tracks = evaluateRegions(
      tracks,
      ids,
      vantage(
        [
          ['east', { ...dead, at }],
          ['west', { ...dead, at }],
        ],
        [],
        at,
      ),
      at,
      t,
    );
  }
  assert.equal(tracks.get('west')!.health, 'DOWN');
  assert.notEqual(tracks.get('east')!.health, 'DOWN');
  assert.match(tracks.get('east')!.why, /last region/);
});

test('the witness alone never declares a region DOWN', () => {
  const v = vantage([], [['east', false]]);
  assert.equal(observeRegion('east', v, now, t).health, 'DEGRADED');
});

// An agent token is bound to its own region, so a forger controls exactly one
// region's report: whatever it claims, about itself and its peers, for as long
// as it likes, another region the witness reaches is never declared DOWN.
test("one region's reports alone never make another region DOWN while the witness reaches it", () => {
  const view = fc.record({
    originsTotal: fc.integer({ min: 0, max: 5 }),
    originsHealthy: fc.integer({ min: 0, max: 5 }),
    errorRate: fc.double({ min: 0, max: 1, noNaN: true }),
    p99Ms: fc.integer({ min: 0, max: 10_000 }),
    peers: fc.array(fc.tuple(fc.constantFrom('west', 'north', 'east'), fc.boolean()), { maxLength: 4 }),
  });
  fc.assert(
    fc.property(
      fc.array(view, { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      fc.boolean(),
      (lies, westReports, threeRegions) => {
        const ids = threeRegions ? ['east', 'west', 'north'] : ['east', 'west'];
        let tracks = new Map<string, HealthTrack>();
        lies.forEach((lie, i) => {
          const at = now + i * 500;
          const reports: [string, EdgeView][] = [['east', { ...lie, at, peers: new Map(lie.peers) }]];
          if (westReports) reports.push(['west', edge({ at })]);
          const witness = vantage([], [['west', true]], at).witness;
          tracks = evaluateRegions(tracks, ids, { reports: new Map(reports), witness }, at, t);
          assert.notEqual(tracks.get('west')!.health, 'DOWN');
          if (threeRegions) assert.notEqual(tracks.get('north')!.health, 'DOWN');
        });
      },
    ),
  );
});

test('with three regions, one region claiming another unreachable does not even partition it', () => {
  const v = vantage(
    [
      ['east', edge({}, [['west', false]])],
      ['north', edge({}, [['west', true]])],
      ['west', edge()],
    ],
    [['west', true]],
  );
  assert.equal(observeRegion('west', v, now, t).health, 'HEALTHY');
});
