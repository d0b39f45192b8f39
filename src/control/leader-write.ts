import type { FastifyRequest } from 'fastify';
import { request } from 'undici';
import type { ControlContext } from './context.js';

/** Marks a write a follower sent on: the leader never sends it further (no loop between instances). */
export const FORWARDED = 'x-meridian-forwarded';

/**
 * A write sent to a follower, done by the leader: the caller's token, body and
 * idempotency key go along unchanged and the leader's answer comes back as it
 * is. null when the leader does not answer (the caller then gets NOT_LEADER
 * with the leader's URL, and may retry there).
 */
export async function writeOnLeader(
  ctx: ControlContext,
  req: FastifyRequest,
  leader: string,
): Promise<{ status: number; body: string } | null> {
  try {
    const headers: Record<string, string> = { [FORWARDED]: ctx.instance };
    for (const name of ['authorization', 'content-type', 'idempotency-key'])
      if (typeof req.headers[name] === 'string') headers[name] = req.headers[name] as string;
    const res = await request(new URL(req.url, leader), {
      method: req.method as 'POST',
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (e) {
    ctx.log.debug({ leader, err: (e as Error).message }, 'write not forwarded to the leader');
    return null;
  }
}
