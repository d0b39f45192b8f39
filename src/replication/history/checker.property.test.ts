// Properties of the checker against a simulated last-writer-wins cache: two
// regions with skewed clocks, sessions that write, delete and read locally,
// replication messages delivered late and out of order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareHlc, HybridClock } from '../hlc.js';
import { checkHistory, type FinalState, type HistoryOp } from './checker.js';

const REGIONS = ['a', 'b'] as const;
type Step =
  | { t: 'write' | 'delete' | 'read'; region: 0 | 1; session: number; key: number }
  | { t: 'deliver'; pick: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    t: fc.constantFrom('write' as const, 'delete' as const, 'read' as const),
    region: fc.constantFrom(0 as const, 1 as const),
    session: fc.integer({ min: 0, max: 2 }),
    key: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ t: fc.constant('deliver' as const), pick: fc.nat() }),
);
const scenarioArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 80 }),
  skewMs: fc.integer({ min: 0, max: 5000 }),
});

interface Event {
  key: string;
  value: string | null;
  stamp: string;
}
type Store = Map<string, { value: string | null; stamp: string }>;

function applyLww(store: Store, e: Event): boolean {
  const cur = store.get(e.key);
  if (cur && compareHlc(e.stamp, cur.stamp) <= 0) return false;
  store.set(e.key, { value: e.value, stamp: e.stamp });
  return true;
}

/**
 * Runs the scenario; `drop` loses the replication of the acknowledged write it
 * returns true for; `readOther` serves reads from the other region (a broken
 * router that sends a session to a replica behind it).
 */
function simulate(
  steps: Step[],
  skewMs: number,
  drop: (e: Event) => boolean = () => false,
  readOther = false,
) {
  let now = 1_000_000;
  const clocks = REGIONS.map((r, i) => new HybridClock(r, () => now + (i === 1 ? skewMs : 0)));
  const stores: Store[] = [new Map(), new Map()];
  const pending: { to: number; e: Event }[] = [];
  const history: HistoryOp[] = [];
  let n = 0;
  for (const step of steps) {
    now += 1;
    if (step.t === 'deliver') {
      if (pending.length === 0) continue;
      const [m] = pending.splice(step.pick % pending.length, 1);
      clocks[m.to].observe(m.e.stamp);
      applyLww(stores[m.to], m.e);
      continue;
    }
    const base = { session: `s${step.session}`, region: REGIONS[step.region], key: `k${step.key}` };
    const store = stores[step.region];
    if (step.t === 'read') {
      const value = stores[readOther ? 1 - step.region : step.region].get(base.key)?.value ?? null;
      history.push({ ...base, kind: 'read', value, acknowledged: true, startedAt: now, endedAt: now });
      continue;
    }
    const value = step.t === 'write' ? `v${n++}` : null;
    // Like the cache: a newer stored stamp is observed and the write stamped again, so it wins.
    let e: Event = { key: base.key, value, stamp: clocks[step.region].tick() };
    while (!applyLww(store, e)) {
      clocks[step.region].observe(store.get(base.key)?.stamp ?? '');
      e = { ...e, stamp: clocks[step.region].tick() };
    }
    history.push({
      ...base,
      kind: step.t,
      value,
      stamp: e.stamp,
      acknowledged: true,
      startedAt: now,
      endedAt: now,
    });
    if (!drop(e)) pending.push({ to: 1 - step.region, e });
  }
  for (const m of pending) applyLww(stores[m.to], m.e);
  const final: FinalState = { a: new Map(stores[0]), b: new Map(stores[1]) };
  return { history, final };
}

test('property: a correct last-writer-wins cache shows no anomaly, whatever the delivery order and clock skew', () => {
  fc.assert(
    fc.property(scenarioArb, ({ steps, skewMs }) => {
      const { history, final } = simulate(steps, skewMs);
      const check = checkHistory(history, final);
      assert.deepEqual(check.anomalies, []);
      assert.equal(check.acknowledged, history.filter((h) => h.kind !== 'read').length);
    }),
    { numRuns: 500, seed: 16 },
  );
});

test('property: dropping the replication of the newest acknowledged set of a key is reported as lost', () => {
  fc.assert(
    fc.property(scenarioArb, ({ steps, skewMs }) => {
      // The newest op of its key, and a set: a lost delete of a key nobody else has reads the same.
      const newestOfKey = new Map<string, HistoryOp>();
      for (const h of simulate(steps, skewMs).history) {
        const cur = newestOfKey.get(h.key);
        if (h.kind !== 'read' && (!cur || compareHlc(h.stamp ?? '', cur.stamp ?? '') > 0))
          newestOfKey.set(h.key, h);
      }
      const newest = [...newestOfKey.values()].find((h) => h.kind === 'write');
      fc.pre(newest !== undefined);
      const { history, final } = simulate(steps, skewMs, (e) => e.stamp === newest?.stamp);
      const check = checkHistory(history, final);
      assert.ok(check.lost > 0, JSON.stringify(check));
      assert.ok(check.anomalies.some((a) => a.kind === 'lost' && a.key === newest?.key));
    }),
    { numRuns: 500, seed: 16 },
  );
});

test('property: a region that rolls a key back to its oldest write is reported lost and divergent', () => {
  fc.assert(
    fc.property(scenarioArb, ({ steps, skewMs }) => {
      const { history, final } = simulate(steps, skewMs);
      const key = history.find((h) => h.kind === 'write')?.key;
      fc.pre(key !== undefined);
      const written = history.filter((h) => h.kind !== 'read' && h.key === key);
      fc.pre(written.length >= 2);
      const oldest = written.reduce((x, y) => (compareHlc(x.stamp ?? '', y.stamp ?? '') <= 0 ? x : y));
      final.b.set(key as string, { value: oldest.value, stamp: oldest.stamp as string });
      const check = checkHistory(history, final);
      assert.ok(check.lost > 0 && check.divergent > 0, JSON.stringify(check));
    }),
    { numRuns: 300, seed: 16 },
  );
});

test('property: a session sent to the other region right after its own write is caught reading stale data', () => {
  fc.assert(
    fc.property(scenarioArb, ({ steps, skewMs }) => {
      const last: Step[] = [
        { t: 'write', region: 0, session: 0, key: 0 },
        { t: 'read', region: 0, session: 0, key: 0 },
      ];
      const { history, final } = simulate([...steps, ...last], skewMs, undefined, true);
      const [write, read] = history.slice(-2);
      // Stale only when the other region holds nothing newer of the key (its own clock may run ahead).
      const other = history.filter((h) => h.key === 'k0' && h.region === 'b' && h.kind !== 'read');
      fc.pre(
        other.every((h) => compareHlc(h.stamp ?? '', write.stamp ?? '') < 0) && read.value !== write.value,
      );
      const check = checkHistory(history, final);
      assert.ok(check.staleReads > 0, JSON.stringify(check));
      assert.ok(check.anomalies.some((a) => a.kind === 'stale-read' && a.key === 'k0'));
    }),
    { numRuns: 300, seed: 16 },
  );
});
