// `meridian edge --control`: the snapshot comes from control's stream (here a
// PARTITIONED us-west-2, so the Seattle client is served locally), is kept on
// disk, and the edge POSTs an EdgeReport every second with the agent token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { request } from 'undici';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import { snapshotToJson } from '../src/feed/codec.js';
import { type EdgeReport, parseEdgeReport } from '../src/feed/report.js';
import { closeServer, echo, startOrigin, waitFor } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';

const TOKEN = 'agent-secret';
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await closeServer(s);
});

test('edge follows control: snapshot from the stream, state on disk, a report every second', async () => {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const snapshot = snapshotFromConfig(loadConfig(cfg.file), {
    version: 7,
    health: new Map([['us-west-2', 'PARTITIONED']]),
  });
  const reports: EdgeReport[] = [];
  const control = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    if (req.url === '/v1/snapshots/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: snapshot\ndata: ${JSON.stringify(snapshotToJson(snapshot))}\n\n`);
      return;
    }
    if (req.url === '/v1/reports' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        reports.push(parseEdgeReport(JSON.parse(Buffer.concat(chunks).toString())));
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  servers.push(control);
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'edge', '--config', cfg.file, '--region', 'us-east-1'].concat([
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--control',
      controlUrl,
      '--token',
      TOKEN,
      '--state-dir',
      cfg.dir,
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', () => reject(new Error(`edge exited before ready: ${stderr}`)));
    });
    const ready = JSON.parse(line);
    const res = await request(`http://${ready.listen}/`, {
      headers: { host: 'api.example.com', 'x-forwarded-for': '24.16.0.1' },
    });
    await res.body.dump();
    assert.equal(res.headers['x-meridian-region'], 'us-east-1', 'PARTITIONED us-west-2 is not a target');
    assert.ok(existsSync(join(cfg.dir, 'snapshot.json')), 'last good snapshot kept on disk');
    assert.ok((await waitFor(() => reports.length > 0, 10_000)) >= 0, `a report arrived; ${stderr}`);
    const report = reports[reports.length - 1];
    assert.equal(report.region, 'us-east-1');
    assert.equal(report.origins.length, 2);
    assert.equal(report.capacity, 1000);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  }
});
