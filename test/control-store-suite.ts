// The state-store conformance suite (hono's router shape): every store, and
// etcd with TLS and auth, runs these same cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import type { ControlState, StateStore } from '../src/control/store/store.js';
import { snapshotToJson } from '../src/feed/codec.js';
import { waitFor } from './control-helpers.js';

const config = loadConfig('examples/two-regions.yaml');
export const state = (version: number, dial = 100): ControlState => ({
  version,
  snapshot: snapshotToJson(snapshotFromConfig(config, { version, dials: new Map([['us-east-1', dial]]) })),
  healthWhy: [],
  operation: null,
});

/** `open()` gives a new client of the same backing store each call. */
export function storeConformance(name: string, open: () => Promise<StateStore | null>) {
  describe(`state store: ${name}`, () => {
    test('commits are compare-and-set on the version', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      const b = (await open())!;
      try {
        assert.equal(await a.load(), null);
        assert.equal(await a.commit(0, state(1)), true);
        assert.equal(await b.commit(0, state(1, 50)), false, 'second first-commit loses');
        assert.equal(await b.commit(1, state(2, 40)), true);
        assert.equal(await a.commit(1, state(2, 30)), false, 'stale writer loses');
        const now = await a.load();
        assert.equal(now?.version, 2);
        assert.equal(now?.snapshot.regions[0].dial, 40);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('snapshots are kept by version and never change', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      try {
        const v = (await a.load())?.version ?? 0;
        await a.commit(v, state(v + 1, 10));
        await a.commit(v + 1, state(v + 2, 20));
        assert.equal((await a.snapshot(v + 1))?.regions[0].dial, 10);
        assert.equal((await a.snapshot(v + 2))?.regions[0].dial, 20);
        assert.equal(await a.snapshot(v + 100), null);
      } finally {
        await a.close();
      }
    });

    test('audit entries commit with the state, newest first', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      try {
        const v = (await a.load())?.version ?? 0;
        const entry = (n: number) => ({ at: 1_000 + n, who: 'ops', role: 'operator', action: `dial-${n}` });
        assert.equal(await a.commit(v, state(v + 1), [entry(1), entry(2)]), true);
        assert.equal(await a.commit(v, state(v + 1), [entry(3)]), false);
        assert.equal(await a.commit(v + 1, state(v + 2), [entry(4)]), true);
        const audit = await a.audit(2);
        assert.deepEqual(
          audit.map((e) => e.action),
          ['dial-4', 'dial-2'],
          'a failed commit writes no audit entry',
        );
      } finally {
        await a.close();
      }
    });

    test('a recorded audit entry changes no state', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      try {
        const before = await a.load();
        await a.record({ at: 5_000, who: 'east-edge', role: 'agent', action: 'report-refused', target: 'w' });
        assert.deepEqual(await a.load(), before);
        const [newest] = await a.audit(1);
        assert.deepEqual([newest.action, newest.target], ['report-refused', 'w']);
      } finally {
        await a.close();
      }
    });

    test('a second client sees new states through watch', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      const b = (await open())!;
      const seen: number[] = [];
      const stop = b.watch((s) => seen.push(s.version));
      try {
        const v = (await a.load())?.version ?? 0;
        await a.commit(v, state(v + 1));
        await waitFor(() => seen.includes(v + 1), 3000);
      } finally {
        stop();
        await a.close();
        await b.close();
      }
    });

    test('one leader at a time; a leader that steps down hands over', async (t) => {
      const a = await open();
      if (!a) return t.skip('backend not available');
      const b = (await open())!;
      try {
        const la = a.campaign('control-a', 1500);
        await waitFor(() => la.isLeader, 5000);
        const lb = b.campaign('control-b', 1500);
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(lb.isLeader, false, 'only one leader');
        assert.equal(await lb.leader(), 'control-a');
        await la.close();
        await waitFor(() => lb.isLeader, 5000);
        assert.equal(await a.campaign('probe', 1500).leader(), 'control-b');
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
