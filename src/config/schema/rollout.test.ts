import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../load.js';
import { rolloutWaves } from './rollout.js';

const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
const withRollout = (rollout: unknown) => parseConfigText(stringify({ ...base, rollout }), 'm.yaml');
const actions = { deploy: { command: ['true'] }, rollback: { webhook: 'http://127.0.0.1:9/rollback' } };

test('a minimal plan gets the defaults, and one region per wave in the order of regions', () => {
  const { config, problems } = withRollout({ actions });
  assert.deepEqual(problems, []);
  const r = config!.rollout!;
  assert.deepEqual(r.canary.steps, [10, 50, 100]);
  assert.equal(r.canary.bake, 10_000);
  assert.equal(r.canary.betweenWaves, 5_000);
  assert.equal(r.canary.confidence, 0.95);
  assert.deepEqual(r.drain.steps, [50, 0]);
  assert.equal(r.actions.deploy.timeout, 60_000);
  assert.equal(r.actions.verify, undefined);
  assert.deepEqual(rolloutWaves(r, ['us-east-1', 'us-west-2']), [
    { regions: ['us-east-1'], strategy: 'drain' },
    { regions: ['us-west-2'], strategy: 'drain' },
  ]);
});

test('no rollout section: no plan', () => {
  const { config, problems } = parseConfigText(stringify(base), 'm.yaml');
  assert.deepEqual(problems, []);
  assert.equal(config!.rollout, undefined);
});

const bad: { name: string; rollout: unknown; path: string; message: RegExp }[] = [
  {
    name: 'an unknown region in a wave',
    rollout: { actions, waves: [{ regions: ['us-east-9'] }] },
    path: 'rollout.waves[0].regions[0]',
    message: /got "us-east-9"/,
  },
  {
    name: 'a region in two waves',
    rollout: { actions, waves: [{ regions: ['us-east-1'] }, { regions: ['us-west-2', 'us-east-1'] }] },
    path: 'rollout.waves[1].regions[1]',
    message: /already in an earlier wave/,
  },
  {
    name: 'an action with both a command and a webhook',
    rollout: { actions: { ...actions, verify: { command: ['true'], webhook: 'http://127.0.0.1:9/' } } },
    path: 'rollout.actions.verify',
    message: /exactly one of command, webhook/,
  },
  {
    name: 'no rollback action',
    rollout: { actions: { deploy: actions.deploy } },
    path: 'rollout.actions.rollback',
    message: /expected object/,
  },
  {
    name: 'canary steps going down',
    rollout: { actions, canary: { steps: [50, 10] } },
    path: 'rollout.canary.steps',
    message: /going up/,
  },
  {
    name: 'a strategy that does not exist',
    rollout: { actions, waves: [{ regions: ['us-east-1'], strategy: 'yolo' }] },
    path: 'rollout.waves[0].strategy',
    message: /"drain"\|"in-place"/,
  },
  {
    name: 'a bad timeout',
    rollout: { actions: { ...actions, deploy: { command: ['true'], timeout: 'soon' } } },
    path: 'rollout.actions.deploy.timeout',
    message: /duration/,
  },
];

for (const c of bad) {
  test(`rollout config problem: ${c.name}`, () => {
    const { config, problems } = withRollout(c.rollout);
    assert.equal(config, undefined);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0].path, c.path);
    assert.match(problems[0].message, c.message);
  });
}
