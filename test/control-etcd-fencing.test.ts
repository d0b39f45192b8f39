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

/** Raft proposals the member has committed, from its /metrics. */
async function proposalsCommitted(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('etcd_server_proposals_committed_total '));
  assert.ok(line, 'etcd exports etcd_server_proposals_committed_total');
  return Number(line.split(' ')[1]);
}

test('etcd: candidates ticking while a leader holds the key propose nothing to raft', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd) return;
  const cluster = await startEtcdCluster(etcd);
  const prefix = `/meridian-quiet-${process.pid}/`;
  const a = new EtcdStore(cluster.endpoints, prefix);
  const b = new EtcdStore(cluster.endpoints, prefix);
  try {
    // ttl 600 ms: each candidate ticks every 200 ms, so 2 s hold ~20 ticks; before reads came
    // first, each tick was a compare-and-put transaction, a proposal even when it failed.
    const la = a.campaign('control-a', 600);
    await waitFor(() => la.isLeader, 5000);
    const lb = b.campaign('control-b', 600);
    await new Promise((r) => setTimeout(r, 500));
    const before = await proposalsCommitted(cluster.endpoints[0]);
    await new Promise((r) => setTimeout(r, 2000));
    const after = await proposalsCommitted(cluster.endpoints[0]);
    assert.equal(la.isLeader, true, 'the leader still leads');
    assert.equal(lb.isLeader, false, 'the other candidate follows');
    assert.ok(after - before <= 2, `${after - before} proposals in 2 s of keepalives and reads (at most 2)`);
  } finally {
    await a.close();
    await b.close();
    await cluster.stop();
  }
});
