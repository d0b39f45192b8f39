// Shared pieces of the edge suites: origins (child processes that can be
// killed, or in-process ones with special behaviour), edges in process, and
// a bounded load loop.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { loadConfig, type MeridianConfig } from '../src/config/index.js';
import { Edge } from '../src/edge/edge.js';
import { FileSnapshotSource } from '../src/feed/file-source.js';
import { GeoLocator } from '../src/geo/index.js';
import { createLogger } from '../src/log.js';

const ORIGIN_CODE = `
const http = require('node:http');
const [port, name] = process.argv.slice(1);
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-origin': name });
    res.end(JSON.stringify({ origin: name }));
  });
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

/** An origin in its own process, so a test can SIGKILL it like a crashed server. */
export async function spawnOrigin(port: number, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', ORIGIN_CODE, String(port), name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`origin ${name} exited with ${code}`)));
  });
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An origin in this process on a given port (or 0), answering /health with 200 and the rest with `handler`. */
export async function startOrigin(port: number, handler: Handler): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/health') return void res.end('ok');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export const echo: Handler = (req, res) => {
  let received = 0;
  req.on('data', (c: Buffer) => {
    received += c.length;
  });
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, received });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
};

let geo: Promise<GeoLocator> | undefined;
export const sharedGeo = () => {
  geo ??= GeoLocator.open({});
  return geo;
};

export interface TestEdge {
  edge: Edge;
  url: string;
  admin: string;
  source: FileSnapshotSource;
  close(): Promise<void>;
}

/** The peer key in-process test edges share unless the config names one (see startEdge). */
export const TEST_PEER_KEY_ENV = 'MERIDIAN_TEST_EDGE_PEER_KEY';
process.env[TEST_PEER_KEY_ENV] ??= 'edge-test-peer-key-0123456789abcdef';

async function edgeConfig(file: string, peerKey: boolean | undefined) {
  const source = new FileSnapshotSource(file, { intervalMs: 200 });
  await source.start();
  let config: MeridianConfig = source.config();
  if (peerKey !== false && config.edge.peers.key === undefined) {
    const peers = { ...config.edge.peers, key: `env:${TEST_PEER_KEY_ENV}` };
    config = { ...config, edge: { ...config.edge, peers } };
  }
  return { source, config };
}

/**
 * An edge in this process for `region`, following `file`, listening where the
 * file says. Edges share a peer key (as a deployment should) unless the file
 * sets one or `peerKey: false` asks for none.
 */
export async function startEdge(
  file: string,
  region: string,
  options: { listen?: string; peerKey?: boolean } = {},
): Promise<TestEdge> {
  const log = createLogger('edge', process.env.EDGE_TEST_LOG ?? 'silent');
  const { source, config } = await edgeConfig(file, options.peerKey);
  const edge = new Edge({
    config,
    region,
    source,
    geo: await sharedGeo(),
    log,
    listen: options.listen,
    admin: '127.0.0.1:0',
  });
  const { listen, admin } = await edge.start();
  return {
    edge,
    url: `http://${listen}`,
    admin: `http://${admin}`,
    source,
    async close() {
      await edge.close();
      await source.close();
    },
  };
}

export interface InProcessEdge {
  edge: Edge;
  source: FileSnapshotSource;
  /** edge.request(): the pipeline without a client socket. */
  request: Edge['request'];
  close(): Promise<void>;
}

/**
 * An edge for `region` without a data listener or admin port: requests go in
 * through edge.request(). Its origins and peer edges are still real sockets.
 */
export async function inProcessEdge(
  file: string,
  region: string,
  options: { peerKey?: boolean } = {},
): Promise<InProcessEdge> {
  const log = createLogger('edge', process.env.EDGE_TEST_LOG ?? 'silent');
  const { source, config } = await edgeConfig(file, options.peerKey);
  const edge = new Edge({ config, region, source, geo: await sharedGeo(), log, listen: false, admin: false });
  await edge.start();
  return {
    edge,
    source,
    request: (url, init) => edge.request(url, init),
    async close() {
      await edge.close();
      await source.close();
    },
  };
}

export const configOf = (file: string) => loadConfig(file);

export interface LoadResult {
  ok: number;
  failed: { status: number; error?: string }[];
  byRegion: Map<string, number>;
}

/** `concurrency` loops of GETs until `stop()` resolves; every request's outcome is counted. */
export async function steadyLoad(
  url: string,
  host: string,
  concurrency: number,
  stop: Promise<unknown>,
  result: LoadResult = { ok: 0, failed: [], byRegion: new Map() },
): Promise<LoadResult> {
  const agent = new Agent({ connections: concurrency });
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const loop = async () => {
    while (!stopped) {
      try {
        const res = await request(`${url}/load`, { headers: { host }, dispatcher: agent });
        const text = await res.body.text();
        const region = String(res.headers['x-meridian-region']);
        result.byRegion.set(region, (result.byRegion.get(region) ?? 0) + 1);
        if (res.statusCode === 200) result.ok++;
        else result.failed.push({ status: res.statusCode, error: `${region}: ${text.slice(0, 200)}` });
      } catch (e) {
        result.failed.push({ status: 0, error: (e as Error).message });
      }
      await sleep(5);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  await agent.close();
  return result;
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: test JSON is checked field by field
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

/** Polls `check` every 50 ms until it returns true or `ms` pass; returns the time it took or -1. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await sleep(50);
  }
  return -1;
}

/** Appends top-level yaml (an `edge:` section) to a config file written by configWithFreePorts. */
export function appendYaml(file: string, yaml: string): void {
  appendFileSync(file, `\n${yaml}\n`);
}

/** An origin that holds every request until release() is called. */
export function holdingOrigin() {
  const held: ServerResponse[] = [];
  const handler: Handler = (req, res) => {
    req.resume();
    held.push(res);
  };
  return {
    handler,
    held,
    release() {
      for (const res of held.splice(0)) res.end('released');
    },
  };
}
