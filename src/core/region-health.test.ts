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
  assert.equal(run(good(0), 0), 'HEALTHY', 'out of UNKNOWN, the first good report counts at once');
  assert.equal(run(bad(100), 100), 'HEALTHY');
  assert.equal(run(bad(600), 600), 'HEALTHY');
  assert.equal(run(bad(1100), 1100), 'DOWN');
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
  const v = vantage([['east', edge({ at: now - 10_000 })]], [['east', false]]);
  assert.equal(observeRegion('east', v, now, t).health, 'DEGRADED');
  assert.equal(observeRegion('east', vantage([], [['east', false]]), now, t).health, 'UNKNOWN');
});

test('a region is UNKNOWN until its edge first reports, never DEGRADED for want of evidence', () => {
  const ids = ['east', 'west'];
  let tracks = new Map<string, HealthTrack>();
  const step = (v: Vantage, at: number) => {
    tracks = evaluateRegions(tracks, ids, v, at, t);
    return [tracks.get('east')!.health, tracks.get('west')!.health];
  };
  // Nothing heard yet, then the witness fails (edges not started), for longer than fallAfter.
  assert.deepEqual(step(vantage([]), 0), ['UNKNOWN', 'UNKNOWN']);
  for (const at of [500, 1500, 5000]) {
    const noEdges = vantage(
      [],
      [
        ['east', false],
        ['west', false],
      ],
      at,
    );
    assert.deepEqual(step(noEdges, at), ['UNKNOWN', 'UNKNOWN'], `at ${at} ms`);
  }
  assert.match(tracks.get('east')!.why, /no report from its edge yet/);
  // The edges start: HEALTHY at once (no riseAfter wait out of UNKNOWN).
  const both = (at: number) =>
    vantage(
      [
        ['east', edge({ at })],
        ['west', edge({ at })],
      ],
      [],
      at,
    );
  assert.deepEqual(step(both(6000), 6000), ['HEALTHY', 'HEALTHY']);
  // Evidence that then stops is a finding, as before: DEGRADED after fallAfter, never UNKNOWN again.
  const westOnly = (at: number) =>
    vantage(
      [
        ['east', edge({ at: 6000 })],
        ['west', edge({ at })],
      ],
      [['east', false]],
      at,
    );
  assert.equal(step(westOnly(7000), 7000)[0], 'HEALTHY');
  assert.equal(step(westOnly(7500), 7500)[0], 'HEALTHY');
  assert.equal(step(westOnly(8100), 8100)[0], 'DEGRADED');
  assert.match(tracks.get('east')!.why, /witness cannot reach/);
});

test('a bad first report leaves UNKNOWN only after fallAfter, as it would leave HEALTHY', () => {
  const ids = ['east', 'west'];
  const dead = (at: number) =>
    vantage(
      [
        ['east', edge({ at, originsHealthy: 0 })],
        ['west', edge({ at }, [['east', true]])],
      ],
      [],
      at,
    );
  let tracks = evaluateRegions(new Map(), ids, dead(0), 0, t);
  assert.equal(tracks.get('east')!.health, 'UNKNOWN');
  assert.equal(tracks.get('east')!.pending?.health, 'DOWN');
  tracks = evaluateRegions(tracks, ids, dead(1000), 1000, t);
  assert.equal(tracks.get('east')!.health, 'DOWN');
});

test('other regions and the witness agreeing need no report from the region itself', () => {
  const ids = ['east', 'west'];
  const cut = (at: number) => vantage([['west', edge({ at }, [['east', false]])]], [['east', false]], at);
  let tracks = evaluateRegions(new Map(), ids, cut(0), 0, t);
  tracks = evaluateRegions(tracks, ids, cut(1000), 1000, t);
  assert.equal(tracks.get('east')!.health, 'DOWN');
});

test('a known region with no evidence is DEGRADED, it never goes back to UNKNOWN', () => {
  const tracks = new Map<string, HealthTrack>([['east', { health: 'HEALTHY', why: 'stored', since: 0 }]]);
  let next = evaluateRegions(tracks, ['east'], vantage([]), now, t);
  assert.equal(next.get('east')!.pending?.health, 'DEGRADED');
  next = evaluateRegions(next, ['east'], vantage([]), now + 1000, t);
  assert.equal(next.get('east')!.health, 'DEGRADED');
  assert.match(next.get('east')!.why, /no recent report/);
});

test('no sequence of observations returns a known region to UNKNOWN', () => {
  const report = fc.option(fc.record({ healthy: fc.integer({ min: 0, max: 2 }), stale: fc.boolean() }), {
    nil: undefined,
  });
  const witness = fc.option(fc.boolean(), { nil: undefined });
  fc.assert(
    fc.property(fc.array(fc.tuple(report, witness), { minLength: 1, maxLength: 30 }), (steps) => {
      let tracks = new Map<string, HealthTrack>();
      const seen = new Map<string, EdgeView>();
      let known = false;
      steps.forEach(([r, w], i) => {
        const at = now + i * 700;
        if (r) seen.set('east', edge({ at: r.stale ? at - 10_000 : at, originsHealthy: r.healthy }));
        const witnessSeen: [string, boolean][] = w === undefined ? [] : [['east', w]];
        tracks = evaluateRegions(tracks, ['east', 'west'], vantage([...seen], witnessSeen, at), at, t);
        const h = tracks.get('east')!.health;
        if (known) assert.notEqual(h, 'UNKNOWN');
        if (seen.size === 0) assert.equal(h, 'UNKNOWN', 'no report ever: UNKNOWN');
        known ||= h !== 'UNKNOWN';
      });
    }),
  );
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
