// `meridian rollout` as a user runs it, against test/cli-rollout-fixture.ts: a small real HTTP server
// standing in for control's rollout API exactly as SPEC14.md specifies it (not control itself).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { RolloutRecord } from '../src/cli/rollout-record.js';
import {
  badRollout,
  type ControlFixture,
  FIXTURE_TOKEN,
  GLOBAL_OUTLIER,
  goodRollout,
  OUTLIER,
  rolloutRecord,
  startControlFixture,
} from './cli-rollout-fixture.js';
import { runCliAsync } from './control-helpers.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { requireProgram } from './helpers/programs.js';

/** The CLI from source, without blocking this process: the fixture must keep answering meanwhile. */
const meridian = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCliAsync(args, { MERIDIAN_TOKEN: FIXTURE_TOKEN, MERIDIAN_CONTROL: '', ...env });

let fixture: ControlFixture;
before(async () => {
  fixture = await startControlFixture();
});
after(() => fixture.close());

function reset(script: RolloutRecord[], rollout: RolloutRecord | null = null) {
  fixture.script = script;
  fixture.rollout = rollout;
  fixture.outlier = undefined;
  fixture.requests.length = 0;
}

const control = () => ['--control', fixture.url];

test('--help: rollout and each subcommand describe themselves and exit 0', () => {
  const top = runCli(['rollout', '--help']);
  assert.equal(top.status, 0, top.stderr);
  for (const verb of ['start', 'status', 'pause', 'resume', 'abort'])
    assert.match(top.stdout, new RegExp(`\\n  ${verb} `));
  const start = runCli(['rollout', 'start', '--help']);
  assert.equal(start.status, 0);
  for (const flag of ['<version>', '--wait', '--dry-run', '--json', '--control <urls>', 'MERIDIAN_TOKEN'])
    assert.ok(start.stdout.includes(flag), `start --help mentions ${flag}`);
  const status = runCli(['rollout', 'status', '--help']);
  assert.equal(status.status, 0);
  assert.match(status.stdout, /--json/);
});

test('usage errors exit 2 with a message and no stack trace, and call nothing', async () => {
  reset(goodRollout());
  for (const args of [
    ['rollout'],
    ['rollout', 'start'],
    ['rollout', 'deploy', 'v2'],
    ['rollout', 'start', 'v2', '--fast'],
    ['rollout', 'start', 'v 2'],
    ['rollout', 'start', 'v2', '--dry-run', '--wait'],
  ]) {
    const r = await meridian([...args, ...control()]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.trim().length > 0, `${args.join(' ')} says why`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(fixture.requests, [], 'no usage error reached control');
});

test('start --wait follows a good rollout, a line per phase change, and exits 0 on done', async () => {
  reset(goodRollout());
  const r = await meridian(['rollout', 'start', 'v2', '--wait', ...control()]);
  assert.equal(r.status, 0, r.stderr);
  const post = fixture.requests.find((q) => q.method === 'POST');
  assert.deepEqual(post?.body, { version: 'v2' });
  assert.equal(post?.authorization, `Bearer ${FIXTURE_TOKEN}`, 'MERIDIAN_TOKEN is sent');
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^rollout r-fixture-1 of v2 started at 19:30:00$/);
  const phases = lines.slice(1, -1).map((l) => /: (running|done) ([a-z-]+)/.exec(l)?.slice(1, 3).join(' '));
  assert.deepEqual(phases, [
    'running between-waves',
    'running draining',
    'running deploying',
    'running canary',
    'running between-waves',
    'running deploying',
    'running baking',
    'done done',
  ]);
  assert.match(lines[1], /before wave 1\/2: running between-waves: starting$/);
  assert.match(lines[2], /wave 1\/2 us-east-1 \(drain\): running draining \[us-east-1 v1 draining\]/);
  assert.match(
    lines[6],
    /wave 2\/2 us-west-2 \(drain\): running deploying \[us-west-2 v1 deploying\]; last judgement us-east-1 pass/,
  );
  assert.equal(lines.at(-1), 'rollout r-fixture-1 done: every region runs v2');
});

test('start --wait on a rollout that is rolled back exits 1 naming the judgement that stopped it', async () => {
  reset(badRollout());
  const r = await meridian(['rollout', 'start', 'v3', '--wait', ...control()]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /^meridian: rollout r-fixture-1 of v3 rolled-back: stopped by the judgement of us-east-1 at dial 10 %: error-rate: canary 0\.31 > baseline 0\.002/,
  );
  assert.match(
    r.stdout,
    /: running rolling-back \[us-east-1 v3 rolling-back\]; last judgement us-east-1 FAIL/,
  );
  // The final table: us-east-1 back on v1, us-west-2 never reached.
  assert.match(r.stdout, /1 +drain +us-east-1 +v1 +done/);
  assert.match(r.stdout, /2 +drain +us-west-2 +v1 +waiting/);
  assert.match(r.stdout, /error-rate +canary 0\.31 +baseline 0\.002 +p 0\.0001 +FAIL/);
});

test("start --wait on a rollout aborted by an operator exits 1 with control's reason", async () => {
  const failure = { why: 'aborted by olivia: support calls from us-east-1', aborted: true };
  reset([
    rolloutRecord(0, { phase: 'deploying', regionsReached: ['us-east-1'] }),
    rolloutRecord(2, { phase: 'rolling-back', regionsReached: ['us-east-1'], failure }),
    rolloutRecord(3, { status: 'aborted', phase: 'done', regionsReached: ['us-east-1'], failure }),
  ]);
  const r = await meridian(['rollout', 'start', 'v2', '--wait', ...control()]);
  assert.equal(r.status, 1, r.stdout);
  assert.equal(
    r.stderr,
    'meridian: rollout r-fixture-1 of v2 aborted: aborted by olivia: support calls from us-east-1\n',
  );
});

test('start --wait --json prints one JSON object per line, the last with the result and judgement', async () => {
  reset(badRollout());
  const r = await meridian(['rollout', 'start', 'v3', '--wait', '--json', ...control()]);
  assert.equal(r.status, 1, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events[0].event, 'started');
  assert.equal(events[0].rollout.version, 'v3');
  const progress = events.filter((e) => e.event === 'progress');
  assert.deepEqual(
    progress.map((e) => e.phase),
    ['draining', 'deploying', 'canary', 'rolling-back', 'restoring', 'done'],
  );
  assert.equal(progress[3].judgement.pass, false);
  const last = events.at(-1);
  assert.equal(last.event, 'finished');
  assert.equal(last.result, 'rolled-back');
  assert.equal(last.judgement.region, 'us-east-1');
  assert.deepEqual(last.rollout.regionsReached, ['us-east-1']);

  reset(goodRollout());
  const done = await meridian(['rollout', 'start', 'v2', '--wait', '--json', ...control()]);
  assert.equal(done.status, 0, done.stderr);
  const end = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual([end.event, end.result, end.judgement], ['finished', 'done', null]);
});

test('start --wait on a terminal draws a progress bar with the wave, region and phase', async (t) => {
  if (!requireProgram(t, 'script')) return;
  reset(goodRollout());
  // script(1) gives the CLI a pseudo-terminal, as a user's shell would.
  const cmd = `${process.execPath} --import tsx src/cli/main.ts rollout start v2 --wait --control ${fixture.url}`;
  const r = await new Promise<CliResult>((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], {
      env: { ...process.env, MERIDIAN_TOKEN: FIXTURE_TOKEN },
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (status) => resolve({ status, stdout, stderr: '' }));
  });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /\r\x1b\[2K\[-{24}\] before wave 1\/2 between-waves/);
  assert.match(
    r.stdout,
    /\r\x1b\[2K\[-{24}\] wave 1\/2 us-east-1 \(drain\) draining {2}us-east-1 v1 draining/,
  );
  assert.match(r.stdout, /\r\x1b\[2K\[#{12}-{12}\] wave 2\/2 us-west-2 \(drain\) deploying/);
  assert.match(r.stdout, /\r\x1b\[2K\[#{24}\] wave 2\/2 us-west-2 \(drain\) done/);
  assert.match(r.stdout, /done: every region runs v2/);
});

test('start --dry-run shows the waves and starts nothing', async () => {
  reset(goodRollout());
  const r = await meridian(['rollout', 'start', 'v2', '--dry-run', ...control()]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    fixture.requests.map((q) => q.body),
    [{ version: 'v2', dryRun: true }],
  );
  assert.match(r.stdout, /^dry run, nothing started: v2 \(from v1\) in 2 wave\(s\)/);
  assert.match(r.stdout, /2 +drain +us-west-2/);
  assert.equal(fixture.rollout, null);
});

test('a second start while one runs is refused (409) with exit 1', async () => {
  reset(goodRollout(), rolloutRecord(3, { phase: 'canary' }));
  const r = await meridian(['rollout', 'start', 'v2', ...control()]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^meridian: rollout r-fixture-1 is still running/);
});

test('status: waves, versions and phases, judgements with p-values, outlier evacuations and global', async () => {
  reset(badRollout(), badRollout().at(-1)!);
  fixture.outlier = OUTLIER;
  const r = await meridian(['rollout', 'status', ...control()]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(
    out,
    /^rollout r-fixture-1: v3 \(from v1\) rolled-back, phase done, wave 1\/2 us-east-1 \(drain\); by olivia, started 19:30:00/,
  );
  assert.match(out, /wave +strategy +region +version +phase/);
  assert.match(out, /1 +drain +us-east-1 +v1 +done/);
  assert.match(out, /judgements \(last 1 of 1\):\n19:30:40 us-east-1 at dial 10 %: FAIL: error-rate/);
  assert.match(out, /p99 +canary 268 +baseline 118 +p < 0\.0001 +FAIL/);
  assert.match(out, /why: stopped by the judgement of us-east-1 at dial 10 %/);
  assert.match(
    out,
    /outlier: us-east-1 evacuated at 19:30:50 from dial 100 %: error rate 31 % vs 0\.2 % elsewhere/,
  );
  assert.match(out, /last decision 19:30:50: redirect us-east-1: others healthy/);

  fixture.outlier = GLOBAL_OUTLIER;
  const global = await meridian(['rollout', 'status', ...control()]);
  assert.match(
    global.stdout,
    /GLOBAL since 19:31:00: every region errs alike .* \(dials held\)\noutliers: no region evacuated/,
  );

  const json = JSON.parse((await meridian(['rollout', 'status', '--json', ...control()])).stdout);
  assert.deepEqual(Object.keys(json), ['rollout', 'outlier']);
  assert.equal(json.rollout.status, 'rolled-back');
  assert.deepEqual(json.outlier, GLOBAL_OUTLIER);

  fixture.outlier = { ...GLOBAL_OUTLIER, global: null, enabled: false };
  const off = await meridian(['rollout', 'status', ...control()]);
  assert.match(off.stdout, /\noutlier detection: off \(control\.outlier\.enabled\)\n$/);

  reset([]);
  const none = await meridian(['rollout', 'status', ...control()]);
  assert.equal(none.status, 0);
  assert.equal(none.stdout, 'no rollout yet\noutlier detection: no state reported\n');
});

test('pause, resume and abort act on the current rollout by its id', async () => {
  reset(goodRollout(), rolloutRecord(3, { phase: 'canary' }));
  for (const [verb, status] of [
    ['pause', 'paused'],
    ['resume', 'running'],
    ['abort', 'aborted'],
  ]) {
    const r = await meridian(['rollout', verb, '--json', '--reason', `${verb} drill`, ...control()]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).rollout.status, status);
    assert.ok(
      fixture.requests.some((q) => q.method === 'POST' && q.path === `/v1/rollouts/r-fixture-1/${verb}`),
    );
  }
  reset([]);
  const none = await meridian(['rollout', 'abort', ...control()]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^meridian: no rollout to abort/);
});

test('--control URL,URL: the first instance that answers; a wrong token is refused with exit 1', async () => {
  reset([], rolloutRecord(3, { phase: 'canary' }));
  const r = await meridian(['rollout', 'status', '--control', `http://127.0.0.1:1,${fixture.url}`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rollout r-fixture-1: v2 \(from v1\) running, phase canary/);
  const env = await meridian(['rollout', 'status'], { MERIDIAN_CONTROL: fixture.url });
  assert.equal(env.status, 0, 'MERIDIAN_CONTROL works like --control');
  const bad = await meridian(['rollout', 'status', ...control()], { MERIDIAN_TOKEN: 'wrong' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bearer token is required/);
});
