// Two control instances on etcd: the leader is SIGKILLed while the first
// wave's canary bakes; the other instance takes over and finishes the
// rollout from where it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, TOKENS } from './control-fixtures.js';
import { startEtcdCluster, waitFor } from './control-helpers.js';
import { type Rollout, rolloutClient, rolloutPlanFixture } from './control-rollout-fixtures.js';
import { startMeridian } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

test('a rollout survives its leader being SIGKILLed mid-wave: the other instance finishes it', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd) return;
  const cluster = await startEtcdCluster(etcd);
  t.after(() => cluster.stop());
  const plan = await rolloutPlanFixture();
  const { file } = controlConfigFile(
    {
      store: {
        type: 'etcd',
        endpoints: cluster.endpoints,
        prefix: `/meridian-rollout-${process.pid}/`,
        leaseTtl: '2s',
      },
    },
    plan.base,
    plan.dir,
  );
  const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  const procs = await Promise.all(
    urls.map((url, i) =>
      startMeridian(
        `control-${i}`,
        ['control', '--config', file, '--listen', url.slice('http://'.length)],
        plan.dir,
      ),
    ),
  );
  t.after(async () => {
    for (const p of procs) await stop(p.child);
  });
  const closeEdges = await plan.startEdges(urls.join(','));
  t.after(closeEdges);
  const leading = async (url: string) =>
    (await api(url, 'GET', '/v1/health').catch(() => ({ json: {} as Record<string, unknown> }))).json
      .isLeader === true;
  const leader =
    (await waitFor(async () => {
      const flags = await Promise.all(urls.map(leading));
      return flags.filter(Boolean).length === 1 ? flags.indexOf(true) + 1 : 0;
    }, 15_000)) - 1;
  const survivor = 1 - leader;
  const onLeader = rolloutClient(() => urls[leader]);
  const onSurvivor = rolloutClient(() => urls[survivor]);
  await onLeader.warm();

  // Started through the follower: the write goes to the leader.
  const started = await api(urls[survivor], 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2' });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json.rollout as Rollout).id;
  await waitFor(async () => (await onLeader.current())?.phase === 'canary', 60_000, 50);
  const killedAt = Date.now();
  await stop(procs[leader].child, 'SIGKILL');
  await waitFor(() => leading(urls[survivor]), 20_000, 100);
  t.diagnostic(`the survivor leads ${Date.now() - killedAt} ms after the kill`);

  const done = await onSurvivor.finished(id);
  assert.equal(done.status, 'done', done.message);
  assert.equal(plan.running('us-east-1'), 'v2');
  assert.equal(plan.running('us-west-2'), 'v2');
  assert.deepEqual(
    plan.actions().filter((a) => a.startsWith('deploy')),
    ['deploy us-east-1 v2  deploy', 'deploy us-west-2 v2  deploy'],
    'each region deployed once',
  );
  assert.deepEqual(await onSurvivor.dials(), { 'us-east-1': 100, 'us-west-2': 100 });
  const ours = (await onSurvivor.audit()).filter((a) => a.details?.rollout === id);
  const instances = new Set(ours.map((a) => a.details?.instance));
  assert.ok(instances.has(urls[leader]) && instances.has(urls[survivor]), 'steps by both instances');
  assert.equal(ours.at(-1)?.action, 'rollout-done');
  assert.equal(ours.at(-1)?.details?.instance, urls[survivor], 'finished by the survivor');
});
