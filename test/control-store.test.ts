// One conformance suite for both state stores (hono's router shape).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EtcdStore, SqliteStore } from '../src/control/store/index.js';
import { type EtcdCluster, startEtcdCluster } from './control-helpers.js';
import { state, storeConformance } from './control-store-suite.js';
import { requireProgram } from './helpers/programs.js';

const sqliteFile = join(mkdtempSync(join(tmpdir(), 'meridian-store-')), 'control.db');
storeConformance('sqlite', async () => new SqliteStore(sqliteFile));

let cluster: EtcdCluster | undefined;
let prefix = '';
let etcdMissing = false;
storeConformance('etcd (3 members)', async () => {
  if (etcdMissing) return null;
  if (!cluster) {
    const fakeT = { skip: () => {} } as never;
    const etcd = requireProgram(fakeT, 'etcd');
    if (!etcd) {
      etcdMissing = true;
      return null;
    }
    cluster = await startEtcdCluster(etcd);
    prefix = `/meridian-test-${Date.now()}/`;
  }
  return new EtcdStore(cluster.endpoints, prefix);
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
async function etcdCall(path: string, body: unknown) {
  const r = await fetch(`${cluster!.endpoints[0]}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return (await r.json()) as { kvs?: { key: string; value: string }[] };
}

test('etcd: a commit writes the snapshot once, compressed; a state stored the old way still loads', async (t) => {
  if (!cluster) return t.skip('etcd not available');
  const own = `/meridian-format-${Date.now()}/`;
  const store = new EtcdStore(cluster.endpoints, own);
  try {
    const s = state(1, 40);
    assert.equal(await store.commit(0, s), true);
    const kvs =
      (await etcdCall('/v3/kv/range', { key: b64(own), range_end: b64(`${own.slice(0, -1)}0`) })).kvs ?? [];
    const bytes = kvs.reduce((n, kv) => n + Buffer.from(kv.value, 'base64').length, 0);
    const oldBytes =
      2 * JSON.stringify(s.snapshot).length + JSON.stringify(s).length - JSON.stringify(s.snapshot).length;
    // The snapshot used to be stored twice, as JSON: once in `state`, once in `snapshots/N`.
    assert.ok(bytes < oldBytes / 3, `a commit stores ${bytes} bytes (the old way: ${oldBytes})`);
    assert.deepEqual((await store.load())?.snapshot, s.snapshot);

    const old = state(2, 30);
    await etcdCall('/v3/kv/put', { key: b64(`${own}version`), value: b64('2') });
    await etcdCall('/v3/kv/put', { key: b64(`${own}state`), value: b64(JSON.stringify(old)) });
    await etcdCall('/v3/kv/put', {
      key: b64(`${own}snapshots/${String(2).padStart(16, '0')}`),
      value: b64(JSON.stringify(old.snapshot)),
    });
    assert.deepEqual(await store.load(), old);
    assert.deepEqual(await store.snapshot(2), old.snapshot);
    assert.deepEqual(await store.snapshot(1), s.snapshot);
  } finally {
    await store.close();
  }
});

test('etcd: the store keeps working when one member dies', async (t) => {
  if (!cluster) return t.skip('etcd not available');
  const store = new EtcdStore(cluster.endpoints, prefix);
  try {
    cluster.members[0].kill('SIGKILL');
    const v = (await store.load())?.version ?? 0;
    assert.equal(await store.commit(v, state(v + 1)), true);
  } finally {
    await store.close();
  }
});

after(async () => {
  await cluster?.stop();
});
