import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../../config/index.js';
import { actionEnv, runAction } from './actions.js';

const args = {
  action: 'deploy' as const,
  region: 'us-east-1',
  version: 'v2',
  previousVersion: 'v1',
  rollout: 'r-1',
};

test('a command gets the region, versions, rollout and action in its environment, no shell', async () => {
  const r = await runAction(
    {
      command: [
        'sh',
        '-c',
        'echo "$MERIDIAN_REGION $MERIDIAN_VERSION $MERIDIAN_PREVIOUS_VERSION $MERIDIAN_ROLLOUT_ID $MERIDIAN_ACTION $1"',
        'x',
        '$HOME;rm',
      ],
      timeout: 5000,
    },
    args,
    { PATH: process.env.PATH },
  );
  assert.deepEqual(r, { ok: true, message: 'exit 0: us-east-1 v2 v1 r-1 deploy $HOME;rm' });
});

test('a non-zero exit fails the action, with the end of its output', async () => {
  const r = await runAction(
    { command: ['sh', '-c', 'echo nope >&2; exit 3'], timeout: 5000 },
    args,
    process.env,
  );
  assert.deepEqual(r, { ok: false, message: 'exit 3: nope' });
});

test('a missing program fails the action', async () => {
  const r = await runAction({ command: ['/nonexistent/deploy'], timeout: 5000 }, args, process.env);
  assert.equal(r.ok, false);
  assert.match(r.message, /cannot run \/nonexistent\/deploy: .*ENOENT/);
});

test('a command past its timeout is killed with what it started', async () => {
  // The child's own child would keep the pipes open (and the action hanging) if only the shell were killed.
  const r = await runAction(
    { command: ['sh', '-c', 'sleep 30 & sleep 30; wait'], timeout: 300 },
    args,
    process.env,
  );
  assert.deepEqual(r, { ok: false, message: 'timed out after 300 ms (killed)' });
});

test('a webhook gets the same facts as JSON; a non-2xx answer or no answer in time fails it', async () => {
  const seen: unknown[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      if (status === 0) return; // never answers
      res.statusCode = status;
      res.end('done');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    assert.deepEqual(await runAction({ webhook: url, timeout: 2000 }, args, {}), {
      ok: true,
      message: 'HTTP 200: done',
    });
    assert.deepEqual(seen[0], { method: 'POST', type: 'application/json', body: args });
    status = 503;
    assert.deepEqual(await runAction({ webhook: url, timeout: 2000 }, args, {}), {
      ok: false,
      message: 'HTTP 503: done',
    });
    status = 0;
    assert.deepEqual(await runAction({ webhook: url, timeout: 300 }, args, {}), {
      ok: false,
      message: 'timed out after 300 ms',
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('a webhook with a token sends it as a bearer token, read when it runs; a missing one fails by name', async () => {
  let authorization: string | undefined;
  const server = createServer((req, res) => {
    authorization = req.headers.authorization;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const token = 'deploy-token-0123456789abcdef';
  try {
    const sent = await runAction({ webhook: url, token: 'env:HOOK_TOKEN', timeout: 2000 }, args, {
      HOOK_TOKEN: token,
    });
    assert.deepEqual([sent.ok, authorization], [true, `Bearer ${token}`]);
    const missing = await runAction({ webhook: url, token: 'env:HOOK_TOKEN', timeout: 2000 }, args, {});
    assert.equal(missing.ok, false);
    assert.match(
      missing.message,
      /rollout\.actions\.deploy\.token: environment variable HOOK_TOKEN is not set/,
    );
    assert.doesNotMatch(missing.message, new RegExp(token));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("actions do not see control's own secrets", () => {
  const doc = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  doc.control = { tokens: [{ name: 'ops', role: 'operator', env: 'OPS_TOKEN' }] };
  const { config } = parseConfigText(stringify(doc), 'm.yaml');
  const env = actionEnv(config!, { PATH: '/bin', OPS_TOKEN: 'x', MERIDIAN_TOKENS: 'y', KUBECONFIG: '/k' });
  assert.deepEqual(env, { PATH: '/bin', KUBECONFIG: '/k' });
});
