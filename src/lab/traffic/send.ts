// One user request from start to end: through the answer's addresses, with
// the retries a real client makes (rules in tries.ts).
import type { Operation } from './operations.js';
import { type FailureKind, type Move, newTryState, nextMove, orderCandidates } from './tries.js';
import type { Answered, EdgeTarget, UserClient } from './user-client.js';

export interface Sent {
  /** The answer, when one came. */
  answer: Answered | null;
  /** The last target tried (whose edge answered, or failed last); null when none was. */
  target: EdgeTarget | null;
  tries: number;
  /** Why no answer came ('connect failed', 'timeout', ...); '' when one did. */
  reason: string;
  /** performance.now() when the request that brought the answer was sent (after any resolving). */
  sentAt: number;
}

export interface SendDeps {
  /** The user's targets: its cached answer, or (fresh) a new one from the resolver. */
  resolve(client: UserClient, fresh: boolean): Promise<EdgeTarget[]>;
  headers: Record<string, string>;
  timeoutMs: number;
}

export async function send(client: UserClient, op: Operation, deps: SendDeps): Promise<Sent> {
  const state = newTryState();
  let targets = await deps.resolve(client, false);
  let last: { url: string; failure: FailureKind } | null = null;
  let target: EdgeTarget | null = null;
  let tries = 0;
  let sentAt = performance.now();
  const headers = op.idempotencyKey
    ? { ...deps.headers, 'idempotency-key': op.idempotencyKey }
    : deps.headers;
  for (;;) {
    const candidates = orderCandidates(
      targets.map((t) => t.url),
      (u) => client.connected(u),
    );
    const move: Move = nextMove(candidates, state, last, op.kind);
    if (move.kind === 'give-up') return { answer: null, target, tries, reason: move.reason, sentAt };
    if (move.kind === 'resolve') {
      state.reResolved = true;
      targets = await deps.resolve(client, true);
      continue;
    }
    state.tried.add(move.url);
    if (move.retry) state.retried = true;
    target = targets.find((t) => t.url === move.url) ?? { region: '', url: move.url };
    tries++;
    sentAt = performance.now();
    const r = await client.send(move.url, {
      method: op.method,
      path: op.path,
      headers,
      body: op.body,
      timeoutMs: deps.timeoutMs,
    });
    if (r.ok) return { answer: r, target, tries, reason: '', sentAt };
    last = { url: move.url, failure: r.failure };
  }
}
