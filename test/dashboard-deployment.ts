// A small real deployment for the dashboard's end-to-end test: control, both
// edges of examples/two-regions.yaml (separate processes), in-process origins,
// and a bounded stream of requests from a New York and a California network.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { startMeridian } from './helpers/cli.js';
import { configWithFreePorts } from './helpers/ports.js';

export const TOKENS = {
  operator: 'dashboard-operator-token-0123456789',
  viewer: 'dashboard-viewer-token-0123456789',
  agent: 'dashboard-agent-token-0123456789',
};

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

function origin(port: number, region: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ region, path: req.url }));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function get(url: string, clientAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { headers: { host: 'api.example.com', 'x-forwarded-for': clientAddress }, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export interface Deployment {
  controlUrl: string;
  close(): Promise<void>;
}

/** Up to `maxS` seconds of traffic; close() stops it and every process. */
export async function startDeployment(logDir: string, maxS = 240): Promise<Deployment> {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendFileSync(
    cfg.file,
    `
control:
  store: { type: sqlite, file: ${join(cfg.dir, 'control.db')} }
  health: { riseAfter: 2s }
  tokens:
    - { name: olivia, role: operator, token: ${TOKENS.operator} }
    - { name: victor, role: viewer, token: ${TOKENS.viewer} }
    - { name: edges, role: agent, token: ${TOKENS.agent}, regions: ["*"] }
`,
  );
  const servers: Server[] = [];
  for (const [old, port] of cfg.ports)
    if (old >= 9000) servers.push(await origin(port, old < 9200 ? 'us-east-1' : 'us-west-2'));
  const children: ChildProcess[] = [];
  const closeAll = async () => {
    await Promise.all(children.map(stop));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
  try {
    const control = await startMeridian(
      'control',
      ['control', '--config', cfg.file, '--listen', '127.0.0.1:0'],
      logDir,
    );
    children.push(control.child);
    const controlUrl = String(control.ready.url);
    const edges = await Promise.all(
      ['us-east-1', 'us-west-2'].map(async (region) => {
        const args = [
          'edge',
          '--config',
          cfg.file,
          '--region',
          region,
          '--admin',
          '127.0.0.1:0',
          '--workers',
          '1',
        ];
        args.push('--control', controlUrl, '--token', TOKENS.agent, '--state-dir', join(cfg.dir, region));
        const edge = await startMeridian(`edge-${region}`, args, logDir);
        children.push(edge.child);
        return `http://${edge.ready.listen}/`;
      }),
    );
    // Columbia University (New York) users reach us-east-1, Stanford (California) users us-west-2, as DNS would send them.
    const deadline = Date.now() + maxS * 1000;
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running && Date.now() < deadline; i++) {
        await Promise.all([get(edges[0], `128.59.${i % 200}.10`), get(edges[1], `171.64.${i % 200}.10`)]);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    return {
      controlUrl,
      async close() {
        running = false;
        await traffic;
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
