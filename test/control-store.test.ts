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
