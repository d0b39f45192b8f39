// The lab's own admin server, in the lab's process (it owns the origins'
// processes): `POST /deploy {region, version}` restarts that region's origins
// on the version, one by one, and answers once they all serve it. Control's
// rollout plan calls it as its deploy and rollback webhooks; drills call the
// same deploy directly. `GET /status` tells a soak which processes run (pids)
// and what users saw since a given second. Bearer token from the lab's
// secrets (a 0600 file).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isLabVersion, LAB_VERSIONS, type LabVersion } from './watchlist/versions.js';

export interface LabAdminOptions {
  token: string;
  regions: readonly string[];
  /** Restarts the region's origins on the version, one by one; resolves when they serve it. */
  deploy(region: string, version: LabVersion, by: 'drill' | 'webhook'): Promise<void>;
  /** The body of GET /status (its query string given). */
  status?: (query: URLSearchParams) => unknown;
}

export interface LabAdmin {
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares tokens in constant time (hashes first: timingSafeEqual wants equal lengths). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 64 * 1024) req.destroy();
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

/**
 * The version to put in place: a rollback puts back the previous version (v1, what the lab starts
 * with, when control does not know it); a deploy or a drill, `version`.
 */
export function deployedVersion(
  body: { version?: unknown; previousVersion?: unknown; action?: unknown } | undefined,
): unknown {
  if (body?.action !== 'rollback') return body?.version;
  return isLabVersion(body.previousVersion) ? body.previousVersion : 'v1';
}

const reply = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export async function startLabAdmin(o: LabAdminOptions): Promise<LabAdmin> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const path = url.pathname;
    if (path !== '/deploy' && !(path === '/status' && o.status))
      return reply(res, 404, { error: 'not found' });
    if (!bearerMatches(req.headers.authorization, o.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="meridian-lab"');
      return reply(res, 401, { error: 'a bearer token is needed' });
    }
    if (path === '/status')
      return req.method === 'GET'
        ? reply(res, 200, o.status!(url.searchParams))
        : reply(res, 405, { error: 'GET /status' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST /deploy {region, version}' });
    // Control's webhooks send {region, version, previousVersion, rollout, action} (SPEC14).
    const body = (await readJson(req)) as
      | { region?: unknown; version?: unknown; previousVersion?: unknown; action?: unknown }
      | undefined;
    const region = body?.region;
    const version = deployedVersion(body);
    if (typeof region !== 'string' || !o.regions.includes(region))
      return reply(res, 400, { error: `region: one of ${o.regions.join(', ')}` });
    if (!isLabVersion(version))
      return reply(res, 400, { error: `version: one of ${LAB_VERSIONS.join(', ')}` });
    try {
      await o.deploy(region, version, 'webhook');
      reply(res, 200, { region, version, deployed: true });
    } catch (e) {
      reply(res, 500, { error: (e as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
