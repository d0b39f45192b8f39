// HTTPS at the edge when edge.tls names a certificate and key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Agent, request } from 'undici';
import { appendYaml, closeServer, echo, startEdge, startOrigin, type TestEdge } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

const servers: Server[] = [];
let edge: TestEdge | undefined;
after(async () => {
  await edge?.close();
  for (const s of servers) await closeServer(s);
});

test('edge.tls: the edge serves HTTPS and tells origins X-Forwarded-Proto: https', async (t) => {
  const openssl = requireProgram(t, 'openssl');
  if (!openssl) return;
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const cert = join(cfg.dir, 'edge.pem');
  const key = join(cfg.dir, 'edge-key.pem');
  const made = spawnSync(openssl, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=api.example.com',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  assert.equal(made.status, 0, made.stderr?.toString());
  appendYaml(cfg.file, `edge:\n  tls: { cert: ${cert}, key: ${key} }`);
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  edge = await startEdge(cfg.file, 'us-east-1');
  const url = edge.url.replace('http://', 'https://');
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const res = await request(`${url}/tls`, { headers: { host: 'api.example.com' }, dispatcher: agent });
  const body = (await res.body.json()) as { headers: Record<string, string> };
  assert.equal(res.statusCode, 200);
  assert.equal(body.headers['x-forwarded-proto'], 'https');
  await agent.close();
});
