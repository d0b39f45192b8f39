import { ERRORS, type ErrorCode } from '../../errors.js';
import type { EdgeContext } from '../context.js';
import type { EdgeRuntime } from '../runtime.js';
import { attemptsHeader, type HeadNeeds } from './response-head.js';

/** What the edge's own answers read from the runtime. */
export type RespondNeeds = HeadNeeds;

/** Answers from the edge itself: JSON error body with the code from src/errors.ts. */
export function respondError(
  ctx: EdgeContext,
  rt: RespondNeeds,
  code: ErrorCode,
  message: string,
  closeConnection = false,
  status: number = ERRORS[code].httpStatus,
): void {
  const x = ctx.x;
  if (x.headersSent) {
    x.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  const headers = ['content-type', 'application/json', 'x-meridian-region', rt.region];
  if (code === 'OVERLOADED') headers.push('retry-after', String(rt.config.edge.shedding.retryAfter));
  if (closeConnection) x.closeAfterResponse();
  const attempts = attemptsHeader(ctx, rt, undefined);
  if (attempts !== undefined) headers.push('x-meridian-attempts', attempts);
  headers.push('content-length', String(Buffer.byteLength(body)));
  ctx.servedBy = rt.region;
  x.writeHead(status, headers);
  x.end(body);
}

export function respondJson(ctx: EdgeContext, rt: RespondNeeds, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  ctx.servedBy = rt.region;
  ctx.x.writeHead(status, [
    'content-type',
    'application/json',
    'cache-control',
    'no-store',
    'x-meridian-region',
    rt.region,
    'content-length',
    String(Buffer.byteLength(body)),
  ]);
  ctx.x.end(body);
}

/** 307 to the region's edge: the method and body are kept by the client. */
export function redirect(
  ctx: EdgeContext,
  rt: RespondNeeds & Pick<EdgeRuntime, 'edgeUrls'>,
  region: string,
): void {
  const base = rt.edgeUrls.get(region) ?? '';
  const location = base.replace(/\/$/, '') + ctx.x.target;
  ctx.servedBy = rt.region;
  ctx.x.writeHead(307, ['location', location, 'x-meridian-region', rt.region, 'content-length', '0']);
  ctx.x.end();
}
