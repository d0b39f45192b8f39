import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../config/index.js';
import { labConfigDocument } from './lab-config.js';
import {
  labBakeMs,
  labDeployAction,
  labOutlierClocks,
  labRolloutPlan,
  schemaHasOutlier,
  schemaHasRollout,
} from './release-config.js';

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

test('labDeployAction: a webhook with the token by file when the schema takes it, else node -e DEPLOY_SCRIPT', () => {
  assert.deepEqual(
    labDeployAction(release, () => true),
    {
      webhook: 'http://127.0.0.1:4000/deploy',
      token: 'file:/tmp/lab/secrets/lab-deploy.token',
      timeout: 30_000,
    },
  );
  const command = labDeployAction(release, () => false) as { command: string[]; timeout: number };
  assert.deepEqual(command.command.slice(-2), [
    'http://127.0.0.1:4000/deploy',
    '/tmp/lab/secrets/lab-deploy.token',
  ]);
  assert.equal(command.command[1], '-e');
  assert.equal(command.command[0], process.execPath);
});

test('labOutlierClocks: each scaled clock only where the schema has it', () => {
  const clocks = labOutlierClocks(30, 40, { enabled: true });
  if (!schemaHasOutlier()) assert.deepEqual(clocks, { enabled: true }, 'no outlier section: nothing added');
  else {
    assert.equal(clocks.riseAfter, 1500);
    assert.equal(clocks.stepInterval, 500);
    assert.equal(clocks.minRequestsPerSecond, 2);
    assert.equal(labOutlierClocks(600, 500).riseAfter, 10_000);
  }
});

test('the generated config carries the plan (and outlier clocks) exactly when the schema knows them, and loads', () => {
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
  assert.equal('rollout' in doc, schemaHasRollout());
  assert.equal('outlier' in (doc.control as object), schemaHasOutlier());
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-release-')), 'lab-config.yaml');
  writeFileSync(file, stringify(doc));
  assert.ok(loadConfig(file).regions.length === 2);
});
