import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { SnapshotSource } from '../feed/source.js';
import { BuiltinProvider } from './memory.js';
import { type SyncResult, watchSync } from './sync.js';

/** A snapshot source driven by the test: the same interface dns and edge read. */
class ManualSource implements SnapshotSource {
  private readonly listeners = new Set<(s: Snapshot, c: MeridianConfig) => void>();
  constructor(
    private cfg: MeridianConfig,
    private snap: Snapshot,
  ) {}
  current = () => this.snap;
  config = () => this.cfg;
  onChange(l: (s: Snapshot, c: MeridianConfig) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async start() {}
  async close() {}
  push(snap: Snapshot) {
    this.snap = snap;
    for (const l of this.listeners) l(snap, this.cfg);
  }
}

const config = loadConfig('examples/two-regions.yaml');
const nextResult = (results: SyncResult[], n: number) =>
  new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (results.length >= n) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });

test('watchSync: syncs at once, then on changes; a burst of changes ends on the newest snapshot', async () => {
  const source = new ManualSource(config, snapshotFromConfig(config, { version: 1 }));
  const provider = new BuiltinProvider([config.zone.name]);
  const results: SyncResult[] = [];
  const w = watchSync({
    provider,
    source,
    steering: 'plain',
    onResult: (r) => results.push(r),
    onError: (e) => assert.fail(String(e)),
  });
  await nextResult(results, 1);
  for (let v = 2; v <= 5; v++)
    source.push(
      snapshotFromConfig(config, { version: v, dials: new Map([['us-east-1', v === 5 ? 0 : 100]]) }),
    );
  await nextResult(results, 2);
  await new Promise((r) => setTimeout(r, 50));
  w.close();
  assert.ok(results.length < 5, `coalesced: ${results.length} syncs for 5 snapshots`);
  assert.equal(results.at(-1)?.snapshotVersion, 5);
  const [a] = (await provider.list('example.com', ['api.example.com'])).filter((r) => r.type === 'A');
  assert.deepEqual(a.records, ['198.51.100.10']);
});

test('watchSync: a held snapshot is not pushed; the next change is', async () => {
  const source = new ManualSource(config, snapshotFromConfig(config, { version: 0 }));
  const provider = new BuiltinProvider([config.zone.name]);
  const results: SyncResult[] = [];
  const held: string[] = [];
  let reason: string | null = 'control never reached';
  const w = watchSync({
    provider,
    source,
    onResult: (r) => results.push(r),
    onError: (e) => assert.fail(String(e)),
    hold: () => reason,
    onHold: (why) => held.push(why),
  });
  assert.deepEqual(held, ['control never reached']);
  assert.deepEqual(await provider.list('example.com', ['api.example.com']), []);
  reason = null;
  source.push(snapshotFromConfig(config, { version: 7 }));
  await nextResult(results, 1);
  w.close();
  assert.equal(results[0].snapshotVersion, 7);
});
