import { readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ControlContext } from './context.js';
import { dashboardRoutes } from './dashboard-history.js';

// src/control/ and dist/control/ both sit two levels below the package root.
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

// The page talks only to this origin; no inline script, no third party.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** False for anything that is not a readable regular file, including names too long for the OS. */
function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Most files the asset cache keeps (web/dist holds a handful). */
export const ASSET_CACHE_MAX = 256;

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

/**
 * Serves the operator dashboard (web/dist, built by `npm run build:web`) at
 * `/` and `/assets/*`, and the read-only routes it needs. The files are
 * public; every API call the page makes carries the operator's token.
 */
export function registerDashboard(app: FastifyInstance, ctx: ControlContext, dir = WEB_DIST) {
  // Keyed by the resolved file, and only files that exist: `assets/a/../x.js` and `assets/x.js` share
  // one entry, and a request for a file that is not there costs a stat, not memory. The cap is a
  // backstop far above what web/dist holds; past it, the oldest entry goes.
  const cache = new Map<string, Asset>();
  const root = resolve(dir);
  const load = (relative: string): Asset | null => {
    const file = resolve(root, relative);
    const cached = cache.get(file);
    if (cached) return cached;
    if (!file.startsWith(root + sep) || !TYPES[extname(file)]) return null;
    if (!isFile(file)) return null;
    const body = readFileSync(file);
    const asset = { type: TYPES[extname(file)], body, gzip: gzipSync(body) };
    if (cache.size >= ASSET_CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(file, asset);
    return asset;
  };
  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply
      .header('content-type', asset.type)
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      reply.header('content-encoding', 'gzip');
      return reply.send(asset.gzip);
    }
    return reply.send(asset.body);
  };

  app.get(
    '/',
    { config: { public: true }, schema: { summary: 'The operator dashboard (HTML)', hide: true } },
    async (req, reply) => {
      const page = load('index.html');
      reply.headers(PAGE_HEADERS);
      if (!page) {
        return reply
          .status(503)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><title>Meridian</title><p>The dashboard is not built: run <code>npm run build:web</code>.</p>',
          );
      }
      return send(req, reply, page);
    },
  );

  app.get('/assets/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const wanted = (req.params as { '*': string })['*'];
    const asset = load(join('assets', wanted));
    if (!asset) {
      return reply
        .status(404)
        .send({ error: { code: 'NOT_FOUND', message: `no dashboard asset ${wanted}` } });
    }
    return send(req, reply, asset);
  });

  dashboardRoutes(app, ctx);
}
