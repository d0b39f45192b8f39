// The whole of examples/two-regions.yaml on loopback for the control plane's
// end-to-end test: control, DNS and both edges as separate `meridian`
// processes, four in-process origins, and a cuttable TCP link between the edges.
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { TOKENS } from './control-fixtures.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';

export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** A TCP relay that can be cut: every connection dropped, new ones refused. */
export async function cuttableLink(target: number) {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: TcpServer = createTcpServer((client) => {
    if (cut) return client.destroy();
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    set cut(v: boolean) {
      cut = v;
      if (v) for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

export async function origin(port: number, region: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ region, path: req.url }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

export function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

/** GET / on an edge as the client at `address`; the region that served it. */
export function regionServing(edgeUrl: string, address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request(
      edgeUrl,
      { headers: { host: 'api.example.com', 'x-forwarded-for': address }, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve(res.statusCode === 200 ? String(res.headers['x-meridian-region']) : null),
        );
      },
    );
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The A record DNS answers for api.example.com to a resolver sending ECS `subnet`. */
export function dnsAnswer(port: number, subnet: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      'kdig',
      [
        '@127.0.0.1',
        '-p',
        String(port),
        '+short',
        '+timeout=1',
        '+retry=0',
        `+subnet=${subnet}`,
        'api.example.com',
        'A',
      ],
      (_e, stdout) => resolve(stdout.trim().split('\n')[0] || null),
    );
  });
}

/** Config files: one for control and DNS, and one per edge whose peer edge URL goes through a cuttable link. */
export async function deploymentConfigs() {
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const doc = parse(readFileSync(cfg.file, 'utf8'));
  doc.control = {
    store: { type: 'sqlite', file: join(cfg.dir, 'control.db') },
    health: { riseAfter: '2s', fallAfter: '500ms' },
    autoRestore: { stepInterval: '1s' },
    tokens: [
      { name: 'ops', role: 'operator', token: TOKENS.operator },
      { name: 'watcher', role: 'viewer', token: TOKENS.viewer },
      { name: 'edges', role: 'agent', token: TOKENS.agent, regions: ['*'] },
    ],
  };
  writeFileSync(cfg.file, stringify(doc));
  const east = cfg.port(8101);
  const west = cfg.port(8201);
  const links = { toWest: await cuttableLink(west), toEast: await cuttableLink(east) };
  const edgeFile = (region: string) => {
    const d = structuredClone(doc);
    for (const r of d.regions) {
      if (r.id === region) continue;
      r.edge = `http://127.0.0.1:${r.id === 'us-west-2' ? links.toWest.port : links.toEast.port}`;
    }
    const file = join(cfg.dir, `${region}.yaml`);
    writeFileSync(file, stringify(d));
    return file;
  };
  const logDir = join(cfg.dir, 'logs');
  mkdirSync(logDir);
  return {
    ...cfg,
    logDir,
    links,
    edgeFiles: { 'us-east-1': edgeFile('us-east-1'), 'us-west-2': edgeFile('us-west-2') },
    edgeUrl: { 'us-east-1': `http://127.0.0.1:${east}/`, 'us-west-2': `http://127.0.0.1:${west}/` },
  };
}
