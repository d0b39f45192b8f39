import type { EdgeContext } from '../context.js';
import { HOP_BY_HOP } from '../hop-by-hop.js';
import type { EdgeRuntime } from '../runtime.js';

/** What writing a response head reads from the runtime. */
export type HeadNeeds = Pick<EdgeRuntime, 'region' | 'config'>;

/** Lengths of the header names this stage looks at (hop-by-hop, ours, Content-Length): others pass unread. */
const SPECIAL_LENGTH = new Uint8Array(32);
for (const n of [...HOP_BY_HOP, 'x-meridian-region', 'x-meridian-attempts', 'content-length'])
  SPECIAL_LENGTH[n.length] = 1;

/** Connection values that name no other header. */
const STANDARD_TOKENS = new Set(['keep-alive', 'close', 'upgrade']);

/**
 * Writes the client's response head from the upstream one: hop-by-hop
 * headers removed, x-meridian-region set. From a peer edge its region header
 * is kept (that region served the request) and its attempts are appended to ours.
 * Returns the Content-Length to expect (-1 when unknown).
 */
export function writeResponseHead(
  ctx: EdgeContext,
  rt: HeadNeeds,
  status: number,
  raw: string[],
  fromPeer: boolean,
): number {
  const out: string[] = [];
  let contentLength = -1;
  let region = rt.region;
  let peerAttempts: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length >= 32 || SPECIAL_LENGTH[name.length] === 0) {
      out.push(name, raw[i + 1]);
      continue;
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') connection = raw[i + 1];
      continue;
    }
    if (lower === 'x-meridian-region') {
      if (fromPeer) region = raw[i + 1];
      continue;
    }
    if (lower === 'x-meridian-attempts') {
      if (fromPeer) peerAttempts = raw[i + 1];
      continue;
    }
    const value = raw[i + 1];
    if (lower === 'content-length') contentLength = Number(value);
    out.push(name, value);
  }
  if (connection !== undefined && !STANDARD_TOKENS.has(connection.toLowerCase())) dropListed(out, connection);
  out.push('x-meridian-region', region);
  const attempts = attemptsHeader(ctx, rt, peerAttempts);
  if (attempts !== undefined) out.push('x-meridian-attempts', attempts);
  ctx.servedBy = region;
  ctx.x.writeHead(status, out);
  return ctx.x.method === 'HEAD' || Number.isNaN(contentLength) ? -1 : contentLength;
}

/** "region origin status ms" per attempt, comma separated; undefined when not asked for. */
export function attemptsHeader(
  ctx: EdgeContext,
  rt: HeadNeeds,
  peerAttempts: string | undefined,
): string | undefined {
  const mode = rt.config.edge.attemptsHeader;
  if (mode === 'never' || (mode === 'request' && !ctx.debugAttempts)) return undefined;
  const mine = (ctx.attempts ?? []).map((a) => `${a.region} ${a.origin} ${a.status} ${Math.round(a.ms)}ms`);
  if (peerAttempts !== undefined) mine.push(peerAttempts);
  return mine.join(', ');
}

function dropListed(out: string[], tokens: string): void {
  const names = tokens.split(',').map((t) => t.trim().toLowerCase());
  for (let i = out.length - 2; i >= 0; i -= 2) if (names.includes(out[i].toLowerCase())) out.splice(i, 2);
}
