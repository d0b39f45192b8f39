import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bearerMatches, DEPLOY_SCRIPT, deployedVersion, startLabAdmin } from './admin.js';

const TOKEN = 'lab-deploy-token-for-the-test';

async function post(url: string, body: unknown, token?: string) {
  const res = await fetch(`${url}/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

test('bearerMatches: the token, nothing else', () => {
  assert.ok(bearerMatches(`Bearer ${TOKEN}`, TOKEN));
  assert.ok(!bearerMatches(`Bearer ${TOKEN}x`, TOKEN));
  assert.ok(!bearerMatches(TOKEN, TOKEN));
  assert.ok(!bearerMatches(undefined, TOKEN));
});

test('deployedVersion: a rollback puts the previous version back (v1 when unknown)', () => {
  assert.equal(deployedVersion({ version: 'v3', action: 'deploy' }), 'v3');
  assert.equal(deployedVersion({ version: 'v3' }), 'v3');
  assert.equal(deployedVersion({ version: 'v3', previousVersion: 'v2', action: 'rollback' }), 'v2');
  assert.equal(deployedVersion({ version: 'v3', previousVersion: null, action: 'rollback' }), 'v1');
});

test('POST /deploy: refused without the token, checks its body, answers once the deploy is done', async () => {
  const calls: string[] = [];
  let fail = false;
  const admin = await startLabAdmin({
    token: TOKEN,
    regions: ['us-east-1', 'us-west-2'],
    deploy: async (region, version, by) => {
      await new Promise((r) => setTimeout(r, 50));
      if (fail) throw new Error('origin did not come back');
      calls.push(`${region} ${version} ${by}`);
    },
  });
  try {
    const none = await post(admin.url, { region: 'us-east-1', version: 'v2' });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await post(admin.url, { region: 'us-east-1', version: 'v2' }, 'wrong-token')).status, 401);
    assert.equal((await post(admin.url, { region: 'eu-west-1', version: 'v2' }, TOKEN)).status, 400);
    assert.equal((await post(admin.url, { region: 'us-east-1', version: 'v9' }, TOKEN)).status, 400);
    assert.deepEqual(calls, [], 'nothing deployed by a refused request');

    const ok = await post(
      admin.url,
      { region: 'us-west-2', version: 'v3', action: 'deploy', rollout: 'r1' },
      TOKEN,
    );
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { region: 'us-west-2', version: 'v3', deployed: true });
    const back = await post(admin.url, { region: 'us-west-2', version: 'v3', action: 'rollback' }, TOKEN);
    assert.equal(back.status, 200);
    assert.deepEqual(calls, ['us-west-2 v3 webhook', 'us-west-2 v1 webhook']);

    fail = true;
    const failed = await post(admin.url, { region: 'us-east-1', version: 'v2' }, TOKEN);
    assert.equal(failed.status, 500, 'a failed deploy fails the webhook');

    const get = await fetch(`${admin.url}/deploy`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(get.status, 405);
    await get.arrayBuffer();
  } finally {
    await admin.close();
  }
});

/** Runs DEPLOY_SCRIPT as control runs an action: its own process, the action in its environment. */
function runScript(url: string, tokenFile: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['-e', DEPLOY_SCRIPT, url, tokenFile], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('DEPLOY_SCRIPT (the plan’s command): the action from the environment, the token from its file', async () => {
  const calls: string[] = [];
  const admin = await startLabAdmin({
    token: TOKEN,
    regions: ['us-east-1'],
    deploy: async (region, version) => {
      calls.push(`${region} ${version}`);
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'lab-admin-'));
  const file = join(dir, 'lab-deploy.token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  const env = { MERIDIAN_REGION: 'us-east-1', MERIDIAN_VERSION: 'v3', MERIDIAN_ROLLOUT_ID: 'r1' };
  const url = `${admin.url}/deploy`;
  try {
    const deployed = await runScript(url, file, { ...env, MERIDIAN_ACTION: 'deploy' });
    assert.equal(deployed.code, 0, deployed.output);
    assert.match(deployed.output, /^HTTP 200 /);
    const back = await runScript(url, file, {
      ...env,
      MERIDIAN_ACTION: 'rollback',
      MERIDIAN_PREVIOUS_VERSION: 'v2',
    });
    assert.equal(back.code, 0, back.output);
    assert.deepEqual(calls, ['us-east-1 v3', 'us-east-1 v2']);
    writeFileSync(file, 'not-the-token\n');
    const refused = await runScript(url, file, env);
    assert.equal(refused.code, 1, 'a refused action fails');
    assert.match(refused.output, /^HTTP 401 /);
    assert.equal((await runScript('http://127.0.0.1:9/deploy', file, env)).code, 1, 'no answer fails');
  } finally {
    await admin.close();
  }
});
