import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../config/index.js';
import { labConfigDocument } from './lab-config.js';
import { labBakeMs, labDeployAction, labOutlierClocks, labRolloutPlan } from './release-config.js';

const release = {
  deployUrl: 'http://127.0.0.1:4000',
  deployTokenFile: '/tmp/lab/secrets/lab-deploy.token',
  regions: ['us-east-1', 'us-west-2'],
  durationS: 30,
  rate: 40,
};

test('labBakeMs: five bakes and a deploy per region fit 0.8 of the run; 1 s to 10 s', () => {
  assert.equal(labBakeMs(30, 2), 1800);
  assert.equal(labBakeMs(45, 3), 1800);
  assert.equal(labBakeMs(8, 2), 1000);
  assert.equal(labBakeMs(600, 2), 10_000);
});

test('labRolloutPlan: one drained region per wave in the config order, canary 25 then 100', () => {
  const plan = labRolloutPlan(release) as { waves: unknown[]; canary: object; actions: { deploy: object } };
  assert.deepEqual(plan.waves, [
    { regions: ['us-east-1'], strategy: 'drain' },
    { regions: ['us-west-2'], strategy: 'drain' },
  ]);
  assert.deepEqual(plan.canary, { steps: [25, 100], bake: 1800, betweenWaves: 1800, minSamples: 3 });
  assert.ok(JSON.stringify(plan).includes(release.deployTokenFile), 'the plan names the token file');
});

test('labDeployAction: a webhook to POST /deploy with the token by file, never the token itself', () => {
  assert.deepEqual(labDeployAction(release), {
    webhook: 'http://127.0.0.1:4000/deploy',
    token: 'file:/tmp/lab/secrets/lab-deploy.token',
    timeout: 30_000,
  });
});

test('labOutlierClocks: clocks scaled to the run and the rate, on top of the config', () => {
  const clocks = labOutlierClocks(30, 40, { enabled: true });
  assert.equal(clocks.enabled, true);
  assert.equal(clocks.riseAfter, 1500);
  assert.equal(clocks.stepInterval, 500);
  assert.equal(clocks.minRequestsPerSecond, 2);
  assert.equal(labOutlierClocks(600, 500).riseAfter, 10_000);
});

test('the generated config carries the plan and the outlier clocks, and loads', () => {
  const doc = labConfigDocument('examples/two-regions.yaml', loadConfig('examples/two-regions.yaml'), {
    edgeUrls: new Map([
      ['us-east-1', 'http://127.0.0.1:18101'],
      ['us-west-2', 'http://127.0.0.1:18201'],
    ]),
    nameservers: [{ name: 'ns1.example.com', ipv4: ['127.0.0.1'] }],
    store: { type: 'sqlite', file: 'control.db' },
    originUrls: new Map([
      ['us-east-1', ['http://127.0.0.1:19101']],
      ['us-west-2', ['http://127.0.0.1:19201']],
    ]),
    capacities: new Map([
      ['us-east-1', 150],
      ['us-west-2', 150],
    ]),
    tokens: { operator: 'o', agent: 'a', viewer: 'v', edges: new Map([['us-east-1', 'e1']]) },
    stateDir: '/tmp/state',
    secretsDir: '/tmp/secrets',
    riseAfterMs: 2000,
    restoreStepMs: 500,
    healthCheckIntervalMs: 250,
    release,
  });
  assert.ok('rollout' in doc);
  assert.ok('outlier' in (doc.control as object));
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-release-')), 'lab-config.yaml');
  writeFileSync(file, stringify(doc));
  assert.ok(loadConfig(file).regions.length === 2);
});
