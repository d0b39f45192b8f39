import type { FastifyRequest } from 'fastify';
import { request } from 'undici';
import type { ControlContext } from './context.js';

/**
 * What the leader answers to this same read, on a follower; null on the leader,
 * or when the leader is unknown or does not answer in time (the caller then
 * answers from its own state). Edge reports reach the leader from every
 * follower, but a follower only sees the ones sent to it, so answers built from
 * reports (status's lag and pending health, the dashboard's history) come from
 * the leader: `meridian status` and the dashboard read the same on any instance.
 * The caller's own token goes along; the leader checks it again.
 */
export async function readFromLeader(ctx: ControlContext, req: FastifyRequest): Promise<unknown | null> {
  if (ctx.leadership.isLeader) return null;
  const leader = await ctx.leadership.leader().catch(() => null);
  if (!leader || leader === ctx.instance) return null;
  try {
    const res = await request(new URL(req.url, leader), {
      headers: { authorization: req.headers.authorization ?? '' },
      headersTimeout: 1500,
      bodyTimeout: 1500,
      signal: AbortSignal.timeout(2000),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    return await res.body.json();
  } catch (e) {
    ctx.log.debug(
      { leader, err: (e as Error).message },
      'read not answered by the leader; answering locally',
    );
    return null;
  }
}
