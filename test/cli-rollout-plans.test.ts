// The rollout plans README.md shows ("Rolling out a release") and examples/rollout-kubernetes.yaml:
// valid config, and their actions, run the way control runs them (argv without a shell, the MERIDIAN_*
// environment), call kubectl/ssh/curl per region with the right version. kubectl, ssh and curl are
// stand-ins on PATH that record their arguments: no cluster is touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { formatProblem, parseConfigText } from '../src/config/index.js';

const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
const example = parse(readFileSync('examples/rollout-kubernetes.yaml', 'utf8'));
const readme = readFileSync('README.md', 'utf8');
const section = readme.slice(readme.indexOf('## Rolling out a release'), readme.indexOf('## Security'));
const [kubernetes, systemd, lab] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]));

const problems = (doc: Record<string, unknown>, name: string): string[] =>
  parseConfigText(stringify(doc), name).problems.map(formatProblem);

test('README shows three plans: kubectl, systemd and the lab', () => {
  assert.ok(kubernetes && systemd && lab, 'three yaml blocks in "Rolling out a release"');
  assert.deepEqual(
    kubernetes.rollout,
    example.rollout,
    'README shows the plan of examples/rollout-kubernetes.yaml',
  );
  assert.match(section, /meridian\.js rollout start v2 --wait/);
});

test('the plans are valid meridian.yaml', () => {
  assert.deepEqual(problems(example, 'examples/rollout-kubernetes.yaml'), []);
  for (const [name, block] of Object.entries({ systemd, lab }))
    assert.deepEqual(problems({ ...base, ...block }, `README ${name} plan`), []);
});

const bin = mkdtempSync(join(tmpdir(), 'meridian-plan-bin-'));
after(() => rmSync(bin, { recursive: true, force: true }));
const calls = join(bin, 'calls');
for (const name of ['kubectl', 'ssh', 'curl']) {
  // One line per call: the program and its arguments, separated by a unit separator.
  const then =
    name === 'curl'
      ? 'printf "%s\\n" "$FAKE_SERVED_VERSION"\n'
      : name === 'kubectl'
        ? 'exit "$FAKE_KUBECTL_EXIT"\n'
        : '';
  writeFileSync(
    join(bin, name),
    `#!/bin/sh\n{ printf '%s' ${name}; for a in "$@"; do printf '\\037%s' "$a"; done; echo; } >> "${calls}"\n${then}`,
  );
  chmodSync(join(bin, name), 0o755);
}

/** Runs one action's command as control does; returns its exit status and the calls it made. */
function run(command: string[], env: Record<string, string>) {
  writeFileSync(calls, '');
  const r = spawnSync(command[0], command.slice(1), {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      MERIDIAN_REGION: 'us-west-2',
      MERIDIAN_VERSION: 'v2',
      MERIDIAN_PREVIOUS_VERSION: 'v1',
      MERIDIAN_ROLLOUT_ID: 'r-test',
      FAKE_KUBECTL_EXIT: '0',
      ...env,
    },
  });
  const made = readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  return { status: r.status, stderr: r.stderr, calls: made.map((l) => l.split('\x1f')) };
}

const kube = (...args: string[]) => ['kubectl', '--context', 'us-west-2', '-n', 'shop', ...args];

test('kubernetes plan: deploy sets the new image in the region, waits for it, and fails when kubectl does', () => {
  const { deploy, rollback, verify } = example.rollout.actions;
  const d = run(deploy.command, { MERIDIAN_ACTION: 'deploy' });
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual(d.calls, [
    kube('set', 'image', 'deployment/api', 'api=registry.example.com/shop/api:v2'),
    kube('rollout', 'status', 'deployment/api', '--timeout=5m'),
  ]);

  const back = run(rollback.command, { MERIDIAN_ACTION: 'rollback' });
  assert.equal(back.status, 0, back.stderr);
  assert.deepEqual(
    back.calls[0],
    kube('set', 'image', 'deployment/api', 'api=registry.example.com/shop/api:v1'),
  );
  const twice = run(rollback.command, { MERIDIAN_ACTION: 'rollback' });
  assert.deepEqual(twice.calls, back.calls, 'a rollback run again does the same (idempotent)');
  const first = run(rollback.command, { MERIDIAN_ACTION: 'rollback', MERIDIAN_PREVIOUS_VERSION: '' });
  assert.deepEqual(first.calls[0], kube('rollout', 'undo', 'deployment/api'), 'no previous version: undo');

  const ok = run(verify.command, { MERIDIAN_ACTION: 'verify', FAKE_SERVED_VERSION: 'v2' });
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.calls, [['curl', '-fsS', 'https://api.us-west-2.example.internal/version']]);
  const stale = run(verify.command, { MERIDIAN_ACTION: 'verify', FAKE_SERVED_VERSION: 'v1' });
  assert.notEqual(stale.status, 0, 'verify fails while the region still serves v1');

  const refused = run(deploy.command, { MERIDIAN_ACTION: 'deploy', FAKE_KUBECTL_EXIT: '1' });
  assert.notEqual(refused.status, 0, 'a failed kubectl fails the action');
  assert.equal(refused.calls.length, 1, 'and nothing runs after it');
});

test("systemd plan: deploy and rollback switch the region's hosts over ssh to the version", () => {
  const d = run(systemd.rollout.actions.deploy.command, { MERIDIAN_ACTION: 'deploy' });
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual(d.calls, [
    ['ssh', 'deploy@api.us-west-2.example.internal', 'sudo', '/opt/api/switch', 'v2'],
  ]);
  const r = run(systemd.rollout.actions.rollback.command, { MERIDIAN_ACTION: 'rollback' });
  assert.deepEqual(r.calls, [
    ['ssh', 'deploy@api.us-west-2.example.internal', 'sudo', '/opt/api/switch', 'v1'],
  ]);
});
