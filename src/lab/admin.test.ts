import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAction } from '../control/rollout/actions.js';
import { bearerMatches, deployedVersion, startLabAdmin } from './admin.js';

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

test("the plan's webhook as control runs it: the action in the body, the token from its file", async () => {
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
  const action = { webhook: `${admin.url}/deploy`, token: `file:${file}`, timeout: 5000 };
  const args = { region: 'us-east-1', version: 'v3', previousVersion: 'v2', rollout: 'r1' };
  try {
    const deployed = await runAction(action, { ...args, action: 'deploy' }, {});
    assert.equal(deployed.ok, true, deployed.message);
    const back = await runAction(action, { ...args, action: 'rollback' }, {});
    assert.equal(back.ok, true, back.message);
    assert.deepEqual(calls, ['us-east-1 v3', 'us-east-1 v2']);
    writeFileSync(file, 'not-the-token-but-long-enough\n');
    const refused = await runAction(action, { ...args, action: 'deploy' }, {});
    assert.equal(refused.ok, false, 'a refused action fails');
    assert.match(refused.message, /^HTTP 401/);
  } finally {
    await admin.close();
  }
});

test('GET /status: with the token, answers what the lab says, given the query', async () => {
  const admin = await startLabAdmin({
    token: TOKEN,
    regions: ['us-east-1'],
    deploy: async () => {},
    status: (q) => ({ from: q.get('from'), processes: [{ name: 'edge-us-east-1', pid: 42 }] }),
  });
  try {
    const none = await fetch(`${admin.url}/status`);
    assert.equal(none.status, 401);
    await none.arrayBuffer();
    const ok = await fetch(`${admin.url}/status?from=7`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { from: '7', processes: [{ name: 'edge-us-east-1', pid: 42 }] });
  } finally {
    await admin.close();
  }
  const without = await startLabAdmin({ token: TOKEN, regions: ['us-east-1'], deploy: async () => {} });
  try {
    const res = await fetch(`${without.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404, 'no status without a lab to ask');
    await res.arrayBuffer();
  } finally {
    await without.close();
  }
});
