// A FIXTURE standing in for control's rollout API, exactly as SPEC14.md specifies it (POST /v1/rollouts,
// GET /v1/rollouts/current, POST /v1/rollouts/:id/pause|resume|abort, GET /v1/status with `rollout` and
// `outlier`), plus the read routes the dashboard uses. It is not control: it plays back a scripted
// rollout, one record per GET of /v1/rollouts/current, so the CLI and the dashboard can be tested
// before, and apart from, the control side. A real HTTP server on a loopback port.
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { OutlierState, RolloutRecord } from '../src/cli/rollout-record.js';
import { FIXTURE_TOKEN, goodRollout } from './cli-rollout-fixture-data.js';

export * from './cli-rollout-fixture-data.js';

export interface FixtureRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface ControlFixture {
  url: string;
  requests: FixtureRequest[];
  /** What the next POST /v1/rollouts plays back, one record per GET of /v1/rollouts/current. */
  script: RolloutRecord[];
  /** The current rollout and outlier state, as GET /v1/status and the dashboard see them. */
  rollout: RolloutRecord | null;
  outlier: OutlierState | undefined;
  /** What GET /v1/audit answers (newest first, as control's). */
  audit: Record<string, unknown>[];
  close(): Promise<void>;
}

const SNAPSHOT = {
  version: 7,
  regions: [
    { id: 'us-east-1', name: 'US East (N. Virginia)', location: { lat: 38.9, lon: -77.4 }, dial: 100 },
    { id: 'us-west-2', name: 'US West (Oregon)', location: { lat: 45.6, lon: -121.2 }, dial: 100 },
  ].map((r) => ({ ...r, capacity: 1000, load: 200, demand: 200, health: 'HEALTHY' as const })),
  policy: { territories: [], defaultRegion: 'us-east-1', fallback: 'nearest', overflow: 'shed', ttl: 30 },
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const error = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error: { code, message, details: [] } });

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

/** Starts the fixture; `webDist` also serves the dashboard's files at / and /assets/*. */
export async function startControlFixture(options: { webDist?: string } = {}): Promise<ControlFixture> {
  const streams = new Set<ServerResponse>();
  let cursor = 0;
  const fixture: ControlFixture = {
    url: '',
    requests: [],
    script: goodRollout(),
    rollout: null,
    outlier: undefined,
    audit: [],
    close: async () => {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const path = url.pathname;
    const body = await readBody(req);
    fixture.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    if (req.method === 'GET' && options.webDist && (path === '/' || path.startsWith('/assets/'))) {
      const file = join(
        options.webDist,
        normalize(path === '/' ? 'index.html' : path).replace(/^(\.\.[/\\])+/, ''),
      );
      if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return error(res, 404, 'NOT_FOUND', path);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      return res.end(readFileSync(file));
    }
    if (req.headers.authorization !== `Bearer ${FIXTURE_TOKEN}`)
      return error(res, 401, 'UNAUTHORIZED', 'a valid bearer token is required');
    const verb = /^\/v1\/rollouts\/([^/]+)\/(pause|resume|abort)$/.exec(path);
    if (req.method === 'POST' && path === '/v1/rollouts') {
      const { version, dryRun } = body as { version: string; dryRun?: boolean };
      if (fixture.rollout && ['running', 'paused'].includes(fixture.rollout.status))
        return error(
          res,
          409,
          'CONFLICT',
          `rollout ${fixture.rollout.id} is still ${fixture.rollout.status}`,
        );
      const first = { ...fixture.script[0], version };
      if (dryRun) return send(res, 200, { rollout: first }); // as control's branch answers a dry run
      fixture.rollout = first;
      cursor = 1;
      return send(res, 201, { rollout: first });
    }
    if (req.method === 'GET' && path === '/v1/rollouts/current') {
      if (fixture.rollout && cursor > 0 && cursor < fixture.script.length)
        fixture.rollout = fixture.script[cursor++];
      return send(res, 200, { rollout: fixture.rollout });
    }
    if (req.method === 'POST' && verb) {
      const [, id, action] = verb;
      if (!fixture.rollout || fixture.rollout.id !== decodeURIComponent(id))
        return error(res, 404, 'NOT_FOUND', `no rollout ${id}`);
      cursor = 0; // a paused, resumed or aborted rollout stops playing the script
      const status = action === 'pause' ? 'paused' : action === 'resume' ? 'running' : 'aborted';
      fixture.rollout = { ...fixture.rollout, status, message: `${action} by olivia` };
      return send(res, 200, { rollout: fixture.rollout });
    }
    if (req.method === 'GET' && path === '/v1/status')
      return send(res, 200, {
        version: SNAPSHOT.version,
        leader: fixture.url,
        instance: fixture.url,
        isLeader: true,
        regions: SNAPSHOT.regions.map((r) => ({
          ...r,
          why: 'edge reports healthy',
          pending: null,
          replicationLagMs: null,
          autoRestore: null,
        })),
        rpoMs: null,
        operation: null,
        rollout: fixture.rollout,
        ...(fixture.outlier ? { outlier: fixture.outlier } : {}),
      });
    if (req.method === 'GET' && path === '/v1/dashboard/session')
      return send(res, 200, {
        name: 'olivia',
        role: 'operator',
        gates: { errorRate: 0.05, p99Ms: 1000, maxLoad: 0.9, margin: 0.1 },
      });
    if (req.method === 'GET' && path === '/v1/audit') return send(res, 200, { entries: fixture.audit });
    if (req.method === 'GET' && path === '/v1/dashboard/history')
      return send(res, 200, { now: Date.now(), samples: [] });
    if (req.method === 'GET' && path === '/v1/snapshots/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`event: snapshot\ndata: ${JSON.stringify(SNAPSHOT)}\n\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    error(res, 404, 'NOT_FOUND', `${req.method} ${path} is not part of the fixture`);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => error(res, 500, 'INTERNAL', String(e)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fixture;
}
