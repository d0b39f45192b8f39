// One leader at a time, enforced by etcd itself: once a store has campaigned,
// its commits carry "the leader key still names me" in the same transaction,
// so a leader that lost its lease (and has not noticed yet) cannot write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdStore } from '../src/control/store/index.js';
import { startEtcdCluster, waitFor } from './control-helpers.js';
import { state } from './control-store-suite.js';
import { requireProgram } from './helpers/programs.js';

test('etcd: a deposed leader commits nothing, even at the current version', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd) return;
  const cluster = await startEtcdCluster(etcd);
  const prefix = `/meridian-fence-${process.pid}/`;
  const a = new EtcdStore(cluster.endpoints, prefix);
  const b = new EtcdStore(cluster.endpoints, prefix);
  try {
    assert.equal(await a.commit(0, state(1)), true, 'the first state is written before any campaign');
    const la = a.campaign('control-a', 1000);
    await waitFor(() => la.isLeader, 5000);
    const lb = b.campaign('control-b', 1000);
    assert.equal(await a.commit(1, state(2)), true, 'the leader writes');
    assert.equal(await b.commit(2, state(3, 40)), false, 'a follower does not, at the current version');

    await la.close();
    await waitFor(() => lb.isLeader, 5000);
    assert.equal(await a.commit(2, state(3, 30)), false, 'the deposed leader does not');
    assert.equal(await b.commit(2, state(3, 40)), true, 'the new leader does');
    assert.equal((await b.load())?.version, 3);
  } finally {
    await a.close();
    await b.close();
    await cluster.stop();
  }
});
