// Staged rollouts against a real `meridian control` process with stand-in
// edges, and deploy/rollback/verify actions that are small shell scripts
// writing files: a good rollout, a bad one caught in the first canary, and one
// that survives control being SIGKILLed mid-wave.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { BAD_VERSION, type Rollout, rolloutClient, rolloutPlanFixture } from './control-rollout-fixtures.js';
import { startMeridian } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';

async function setup(t: TestContext, opts: { slowDeployIn?: string } = {}) {
  const plan = await rolloutPlanFixture(opts);
  const { dir } = plan;
  const { file } = controlConfigFile({}, plan.base, dir);
  const url = `http://127.0.0.1:${await freePort()}`;
  const startControl = () =>
    startMeridian(
      'control',
      [
        'control',
        '--config',
        file,
        '--listen',
        url.slice('http://'.length),
        '--state',
        join(dir, 'control.db'),
      ],
      dir,
    );
  let control = await startControl();
  const closeEdges = await plan.startEdges(url);
  t.after(async () => {
    await closeEdges();
    await stop(control.child);
  });
  const s = {
    ...rolloutClient(() => url),
    url,
    running: plan.running,
    actions: plan.actions,
    kill: async () => {
      await stop(control.child, 'SIGKILL');
      control = await startControl();
    },
  };
  await s.warm();
  return s;
}

test('a good rollout across two regions ends done, both regions deployed and back at dial 100', async (t) => {
  const s = await setup(t);
  const viewer = await api(s.url, 'POST', '/v1/rollouts', TOKENS.viewer, { version: 'v2' });
  assert.equal(viewer.status, 403, 'a viewer cannot start one');
  const dry = await api(s.url, 'POST', '/v1/rollouts', TOKENS.viewer, { version: 'v2', dryRun: true });
  assert.equal(dry.status, 200, JSON.stringify(dry.json));
  assert.deepEqual(
    (dry.json.rollout as { waves: unknown[] }).waves,
    [
      { regions: ['us-east-1'], strategy: 'drain' },
      { regions: ['us-west-2'], strategy: 'drain' },
    ],
    'default waves: one region each, in the order of the config',
  );
  assert.equal((await s.current()) ?? null, null, 'a dry run starts nothing');

  const started = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2' });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json.rollout as Rollout).id;
  const again = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v4' });
  assert.equal(again.status, 409);
  assert.equal(again.json.error?.code, 'CONFLICT');

  const done = await s.finished(id);
  assert.equal(done.status, 'done', done.message);
  assert.deepEqual(done.regionsReached, ['us-east-1', 'us-west-2']);
  assert.equal(s.running('us-east-1'), 'v2');
  assert.equal(s.running('us-west-2'), 'v2');
  assert.deepEqual(s.actions(), [
    'deploy us-east-1 v2  deploy',
    'verify us-east-1',
    'deploy us-west-2 v2  deploy',
    'verify us-west-2',
  ]);
  assert.deepEqual(await s.dials(), { 'us-east-1': 100, 'us-west-2': 100 });
  assert.deepEqual(
    done.judgements.map((j) => [j.region, j.dial, j.pass]),
    [
      ['us-east-1', 10, true],
      ['us-east-1', 100, true],
      ['us-west-2', 10, true],
      ['us-west-2', 100, true],
    ],
  );
  const audit = (await s.audit()).filter((a) => a.details?.rollout === id);
  assert.equal(audit[0].action, 'rollout-start');
  assert.equal(audit.at(-1)?.action, 'rollout-done');
  assert.equal(audit.filter((a) => a.action === 'rollout-judgement').length, 4);
  const status = await api(s.url, 'GET', '/v1/status', TOKENS.viewer);
  assert.equal((status.json.rollout as Rollout).status, 'done', '/v1/status carries the rollout');

  // The next rollout goes back to this one's version on rollback.
  const next = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2.1', dryRun: true });
  assert.equal((next.json.rollout as { previousVersion: string }).previousVersion, 'v2');
  const told = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, {
    version: 'v2.1',
    previousVersion: 'v1.9',
    dryRun: true,
  });
  assert.equal((told.json.rollout as { previousVersion: string }).previousVersion, 'v1.9');
  const shell = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2; rm -rf /' });
  assert.equal(shell.status, 400, 'a version with spaces or shell syntax is refused');
  const unknown = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, {
    version: 'v5',
    waves: [{ regions: ['us-east-9'] }],
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error?.code, 'UNKNOWN_REGION');
  const spec = (await api(s.url, 'GET', '/openapi.json')).json as { paths: Record<string, unknown> };
  for (const path of ['/v1/rollouts', '/v1/rollouts/current', '/v1/rollouts/{id}/abort'])
    assert.ok(path in spec.paths, `${path} in the OpenAPI document`);
});

test('a bad canary in the first region is rolled back there; the second region never deploys', async (t) => {
  const s = await setup(t);
  const started = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: BAD_VERSION });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const done = await s.finished((started.json.rollout as Rollout).id);
  assert.equal(done.status, 'rolled-back', done.message);
  // The window may still hold a sample from before the deploy, so the rate is near 30 %, not exactly it.
  const rate = /judgement failed for us-east-1 at dial 10: worse than baseline: error rate ([\d.]+) %/.exec(
    done.message,
  );
  assert.ok(rate, done.message);
  assert.ok(Number(rate[1]) >= 20 && Number(rate[1]) <= 30, done.message);
  assert.deepEqual(done.regionsReached, ['us-east-1']);
  assert.deepEqual(s.actions(), ['deploy us-east-1 v3  deploy', 'verify us-east-1', 'rollback us-east-1 v3']);
  assert.equal(s.running('us-east-1'), 'v1', 'rolled back');
  assert.equal(s.running('us-west-2'), 'v1', 'never deployed');
  assert.equal(done.regions['us-west-2'].phase, 'waiting');
  const failed = done.judgements.at(-1)!;
  assert.equal(failed.pass, false);
  const canaryRate = failed.metrics.find((m) => m.name === 'error-rate')?.canary ?? 0;
  assert.ok(canaryRate >= 0.2 && canaryRate <= 0.3, `canary error rate ${canaryRate}`);
  assert.deepEqual(await s.dials(), { 'us-east-1': 100, 'us-west-2': 100 }, 'dials restored');
  const restoring = (await s.audit()).filter((a) => a.details?.phase === 'restoring' && a.details?.dials);
  assert.ok(
    restoring.length >= 2,
    `restored stepwise: ${JSON.stringify(restoring.map((a) => a.details?.dials))}`,
  );
});

test('a rollout survives control being SIGKILLed during a bake: restarted on the same store, it finishes', async (t) => {
  const s = await setup(t);
  const started = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2' });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json.rollout as Rollout).id;
  await waitFor(async () => (await s.current())?.phase === 'canary', 60_000, 50);
  const before = (await s.current())!;
  assert.equal(before.waveIndex, 0);
  await s.kill();
  const resumed = (await s.current())!;
  assert.equal(resumed.id, id);
  assert.equal(resumed.status, 'running');
  assert.equal(resumed.waveIndex, 0, 'where it was');
  const done = await s.finished(id);
  assert.equal(done.status, 'done', done.message);
  assert.equal(s.running('us-east-1'), 'v2');
  assert.equal(s.running('us-west-2'), 'v2');
  assert.deepEqual(
    s.actions().filter((a) => a.startsWith('deploy')),
    ['deploy us-east-1 v2  deploy', 'deploy us-west-2 v2  deploy'],
    'each region deployed once',
  );
  assert.deepEqual(await s.dials(), { 'us-east-1': 100, 'us-west-2': 100 });
});

test('an action in flight when control dies runs again after the restart (actions are idempotent)', async (t) => {
  const s = await setup(t, { slowDeployIn: 'us-west-2' });
  const started = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2' });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json.rollout as Rollout).id;
  await waitFor(() => s.actions().includes('deploy us-west-2 v2  deploy'), 60_000, 20);
  await s.kill();
  const done = await s.finished(id);
  assert.equal(done.status, 'done', done.message);
  assert.deepEqual(
    s.actions().filter((a) => a.startsWith('deploy')),
    ['deploy us-east-1 v2  deploy', 'deploy us-west-2 v2  deploy', 'deploy us-west-2 v2  deploy'],
    'the deploy that was running when control died ran again',
  );
  assert.equal(s.running('us-west-2'), 'v2');
  assert.deepEqual(await s.dials(), { 'us-east-1': 100, 'us-west-2': 100 });
});

test('pause holds the rollout, resume goes on, abort rolls back what it reached', async (t) => {
  const s = await setup(t);
  const started = await api(s.url, 'POST', '/v1/rollouts', TOKENS.operator, { version: 'v2' });
  const id = (started.json.rollout as Rollout).id;
  await waitFor(async () => (await s.current())?.phase === 'canary', 60_000, 50);
  const viewer = await api(s.url, 'POST', `/v1/rollouts/${id}/pause`, TOKENS.viewer, {});
  assert.equal(viewer.status, 403);
  const paused = await api(s.url, 'POST', `/v1/rollouts/${id}/pause`, TOKENS.operator, {});
  assert.equal(paused.status, 200, JSON.stringify(paused.json));
  const atPause = paused.json.rollout as Rollout;
  assert.equal(atPause.status, 'paused');
  const dials = await s.dials();
  await new Promise((r) => setTimeout(r, 2500)); // longer than a bake
  const still = (await s.current())!;
  assert.equal(still.status, 'paused');
  assert.equal(still.phase, atPause.phase);
  assert.equal(still.judgements.length, atPause.judgements.length, 'nothing judged while paused');
  assert.deepEqual(await s.dials(), dials);
  assert.equal((await api(s.url, 'POST', `/v1/rollouts/${id}/pause`, TOKENS.operator, {})).status, 409);
  const resumed = await api(s.url, 'POST', `/v1/rollouts/${id}/resume`, TOKENS.operator, {});
  assert.equal((resumed.json.rollout as Rollout).status, 'running');
  await waitFor(
    async () => ((await s.current())?.judgements.length ?? 0) > atPause.judgements.length,
    30_000,
    50,
  );
  assert.equal((await api(s.url, 'POST', '/v1/rollouts/nope/abort', TOKENS.operator, {})).status, 404);
  const aborted = await api(s.url, 'POST', `/v1/rollouts/${id}/abort`, TOKENS.operator, { reason: 'drill' });
  assert.equal(aborted.status, 200, JSON.stringify(aborted.json));
  const done = await s.finished(id);
  assert.equal(done.status, 'aborted', done.message);
  assert.match(done.message, /aborted by ops: drill/);
  assert.deepEqual(
    s.actions().filter((a) => a.startsWith('rollback')),
    ['rollback us-east-1 v2'],
  );
  assert.equal(s.running('us-west-2'), 'v1', 'the later wave never deployed');
  assert.deepEqual(await s.dials(), { 'us-east-1': 100, 'us-west-2': 100 });
  assert.equal((await api(s.url, 'POST', `/v1/rollouts/${id}/resume`, TOKENS.operator, {})).status, 409);
});
