import { existsSync, readFileSync } from 'node:fs';
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
  const cache = new Map<string, Asset | null>();
  const load = (relative: string): Asset | null => {
    if (cache.has(relative)) return cache.get(relative)!;
    const root = resolve(dir);
    const file = resolve(root, relative);
    let asset: Asset | null = null;
    if (file.startsWith(root + sep) && TYPES[extname(file)] && existsSync(file)) {
      const body = readFileSync(file);
      asset = { type: TYPES[extname(file)], body, gzip: gzipSync(body) };
    }
    cache.set(relative, asset);
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
