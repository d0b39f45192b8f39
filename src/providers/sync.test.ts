import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import { MeridianError } from '../errors.js';
import type { SnapshotSource } from '../feed/source.js';
import type { Held } from './drift.js';
import { BuiltinProvider } from './memory.js';
import { type SyncResult, syncAndHold, watchSync } from './sync.js';

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

/** Fails its first `failures` lists with a retryable error, as an unreachable server does. */
class FlakyProvider extends BuiltinProvider {
  lists = 0;
  constructor(private failures: number) {
    super([config.zone.name]);
  }
  override async list(zone: string, names: readonly string[]) {
    this.lists++;
    if (this.failures-- > 0) throw new MeridianError('PROVIDER_UNREACHABLE', `down (list ${this.lists})`);
    return super.list(zone, names);
  }
}

test('watchSync: a failing provider is retried with backoff until it answers', async () => {
  const source = new ManualSource(config, snapshotFromConfig(config, { version: 1 }));
  const provider = new FlakyProvider(3);
  const results: SyncResult[] = [];
  const errors: unknown[] = [];
  const retries: { attempt: number; delayMs: number }[] = [];
  const w = watchSync({
    provider,
    source,
    steering: 'plain',
    backoff: { baseMs: 4, capMs: 10 },
    onResult: (r) => results.push(r),
    onError: (e) => errors.push(e),
    onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }),
  });
  await nextResult(results, 1);
  w.close();
  assert.equal(errors.length, 3);
  assert.deepEqual(
    retries.map((r) => r.attempt),
    [1, 2, 3],
  );
  for (const [i, r] of retries.entries()) assert.ok(r.delayMs < Math.min(10, 4 * 2 ** i), JSON.stringify(r));
  assert.equal(provider.lists, 4, 'three failures, then the sync that succeeded');
  assert.ok(results[0].applied);
});

test('watchSync: a non-retryable error (a rejected key) is not retried; the next change syncs again', async () => {
  const source = new ManualSource(config, snapshotFromConfig(config, { version: 1 }));
  const provider = new BuiltinProvider([config.zone.name]);
  let keyOk = false;
  const list = provider.list.bind(provider);
  provider.list = async (zone, names) => {
    if (!keyOk) throw new MeridianError('PROVIDER_AUTH', 'key rejected');
    return list(zone, names);
  };
  const results: SyncResult[] = [];
  const errors: unknown[] = [];
  const w = watchSync({
    provider,
    source,
    steering: 'plain',
    backoff: { baseMs: 1, capMs: 1 },
    onResult: (r) => results.push(r),
    onError: (e) => errors.push(e),
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(errors.length, 1, 'no retry of PROVIDER_AUTH');
  keyOk = true;
  source.push(snapshotFromConfig(config, { version: 2 }));
  await nextResult(results, 1);
  w.close();
  assert.equal(results[0].snapshotVersion, 2);
});

test('syncAndHold: foreign names survive, a second sync changes nothing, drift is found and repaired', async () => {
  const provider = new BuiltinProvider([config.zone.name]);
  const withApex = {
    ...config,
    zone: {
      ...config.zone,
      records: [{ name: '@', type: 'MX' as const, values: [{ preference: 10, exchange: 'mx.example.net' }] }],
    },
  } as MeridianConfig;
  const foreign = { name: 'example.com', type: 'TXT' as const, ttl: 300, records: ['v=spf1 -all'] };
  await provider.apply('example.com', [{ action: 'put', recordSet: foreign }]);
  const snapshot = snapshotFromConfig(config, { version: 1 });
  const sync = (held?: Held) =>
    syncAndHold({ provider, config: withApex, snapshot, steering: 'plain', owner: 'us', held });

  const first = await sync();
  assert.deepEqual(
    first.result.leftAlone.map((l) => l.name),
    ['example.com'],
  );
  assert.ok(
    first.result.changes.some(
      (c) => c.action === 'put' && c.recordSet.name === '_meridian-owner.api.example.com',
    ),
  );
  const names = [
    'example.com',
    'api.example.com',
    '_meridian-owner.api.example.com',
    '_meridian-owner.example.com',
  ];
  const after = await provider.list('example.com', names);
  assert.deepEqual(
    after.filter((r) => r.name === 'example.com'),
    [foreign],
    'the apex MX is not written beside a foreign TXT',
  );
  assert.deepEqual(after.find((r) => r.name === '_meridian-owner.api.example.com')?.records, [
    'heritage=meridian,owner=us',
  ]);

  const second = await sync(first.held);
  assert.deepEqual(second.result.changes, [], 'idempotent');
  assert.deepEqual(second.result.drift, []);

  await provider.apply('example.com', [
    { action: 'put', recordSet: { name: 'api.example.com', type: 'A', ttl: 30, records: ['203.0.113.66'] } },
  ]);
  const third = await sync(second.held);
  assert.deepEqual(third.result.drift, ['api.example.com|A|']);
  const [a] = (await provider.list('example.com', ['api.example.com'])).filter((r) => r.type === 'A');
  assert.deepEqual(a.records, ['192.0.2.10', '198.51.100.10'], 'repaired');
  assert.deepEqual(await provider.list('example.com', ['example.com']), [foreign]);

  const otherOwner = await syncAndHold({
    provider,
    config: withApex,
    snapshot,
    steering: 'plain',
    owner: 'them',
  });
  assert.deepEqual(otherOwner.result.changes, [], 'another owner changes nothing of ours');
  assert.deepEqual(otherOwner.result.leftAlone.map((l) => l.name).sort(), ['api.example.com', 'example.com']);
});

test('--adopt: records an older Meridian wrote without a marker are left alone, then taken with --adopt', async () => {
  const provider = new BuiltinProvider([config.zone.name]);
  const snapshot = snapshotFromConfig(config, { version: 1 });
  const zone = config.zone.name;
  const sync = (adopt?: boolean) =>
    syncAndHold({ provider, config, snapshot, steering: 'plain', adopt }).then((s) => s.result);
  // What a sync before markers left: the records, and no _meridian-owner TXT.
  const names = (await sync()).changes.flatMap((c) => (c.action === 'put' ? [c.recordSet.name] : []));
  const markers = (await provider.list(zone, names)).filter((r) => r.name.startsWith('_meridian-owner.'));
  assert.ok(markers.length > 0 && markers.length < names.length, `markers among ${names}`);
  await provider.apply(
    zone,
    markers.map((r) => ({ action: 'delete' as const, name: r.name, type: r.type, qualifier: r.qualifier })),
  );

  const without = await sync();
  assert.deepEqual(without.changes, [], 'not its own: nothing changed');
  assert.equal(without.leftAlone.length, markers.length);
  const adopting = await sync(true);
  assert.deepEqual(adopting.leftAlone, []);
  assert.deepEqual(
    adopting.changes.map((c) => (c.action === 'put' ? c.recordSet.name : c.action)).sort(),
    markers.map((m) => m.name).sort(),
    'only the markers are written: the records were already as wanted',
  );
  assert.deepEqual((await sync()).changes, [], 'owned from now on, without --adopt');
});
