// `meridian rollout start --wait` and `rollout status` against the real control (in process, with
// stand-in edges whose error rate follows the version their region runs, and deploy/rollback actions
// that are shell scripts writing that version to a file). test/cli-rollout.test.ts checks the same
// output against a fixture of the API; this checks the CLI and control agree. Skipped, with the
// reason printed, while control has no rollouts (before issue 14's rollout branch is merged).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../src/config/index.js';
import { startFakeEdge } from './control-fake-edge.js';
import { startTestControl, TOKENS } from './control-fixtures.js';
import { runCliAsync, waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

const BAD = 'v3';

async function setup(t: TestContext) {
  const example = await configWithFreePorts();
  const dir = example.dir;
  const running = (region: string) => {
    const f = join(dir, `running-${region}`);
    return existsSync(f) ? readFileSync(f, 'utf8') : 'v1';
  };
  const doc = parse(readFileSync(example.file, 'utf8'));
  const to = (v: string) => `printf %s "${v}" > "${dir}/running-$MERIDIAN_REGION"`;
  doc.rollout = {
    canary: { steps: [10, 100], bake: '1s', betweenWaves: '300ms', minSamples: 3 },
    drain: { steps: [0], stepInterval: '300ms' },
    actions: {
      deploy: { command: ['sh', '-c', to('$MERIDIAN_VERSION')], timeout: '10s' },
      rollback: { command: ['sh', '-c', to('$MERIDIAN_PREVIOUS_VERSION')], timeout: '10s' },
    },
  };
  const base = join(dir, 'rollout.yaml');
  writeFileSync(base, stringify(doc));
  if (parseConfigText(stringify(doc), base).problems.length > 0) {
    const reason = 'control has no rollouts yet (config schema without `rollout`)';
    process.stdout.write(`# skipping: ${reason}\n`);
    t.skip(reason);
    return null;
  }
  const control = await startTestControl({}, { base, dir });
  const url = control.url;
  const edges = [
    await startFakeEdge('us-east-1', example.port(8101), url, TOKENS.agent),
    await startFakeEdge('us-west-2', example.port(8201), url, TOKENS.agent),
  ];
  const follow = setInterval(() => {
    for (const e of edges)
      e.report = { ...e.report, errorRate: running(e.report.region) === BAD ? 0.3 : 0.001 };
  }, 50);
  t.after(async () => {
    clearInterval(follow);
    for (const e of edges) await e.close();
    await control.close();
  });
  const cli = (args: string[]) =>
    runCliAsync([...args, '--control', url], { MERIDIAN_TOKEN: TOKENS.operator });
  // Control judges nothing before both edges have reported.
  await waitFor(
    async () => {
      const r = await cli(['status', '--json']);
      return r.status === 0 && JSON.parse(r.stdout).regions.every((g: { load: number }) => g.load > 0);
    },
    20_000,
    200,
  );
  return { cli, running };
}

test('real control: start --wait exits 0 when done and 1 with the judgement when rolled back', {
  timeout: 180_000,
}, async (t) => {
  const s = await setup(t);
  if (!s) return;
  const good = await s.cli(['rollout', 'start', 'v2', '--wait']);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /: running canary \[us-east-1 v2 canary\]/);
  assert.match(good.stdout, /done: every region runs v2\n$/);
  assert.deepEqual([s.running('us-east-1'), s.running('us-west-2')], ['v2', 'v2']);

  const bad = await s.cli(['rollout', 'start', BAD, '--wait', '--json']);
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  const last = JSON.parse(bad.stdout.trim().split('\n').at(-1)!);
  assert.equal(last.event, 'finished');
  assert.equal(last.result, 'rolled-back');
  assert.equal(last.judgement.region, 'us-east-1');
  assert.equal(last.judgement.pass, false);
  assert.deepEqual(last.rollout.regionsReached, ['us-east-1']);
  assert.deepEqual(
    [s.running('us-east-1'), s.running('us-west-2')],
    ['v2', 'v2'],
    'v3 rolled back, never in us-west-2',
  );

  const status = await s.cli(['rollout', 'status']);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /rolled-back, phase done/);
  assert.match(status.stdout, /error-rate +canary 0\.\d+ +baseline 0\.\d+ +p (< )?[\d.]+ +FAIL/);
});
