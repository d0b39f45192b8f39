// Records what clients did, for checkHistory. An op is invoked, then
// completes (ok) or fails; one that never completes (its process was killed,
// the call hung) counts as unacknowledged: it may or may not have landed.
// A client in another process emits the same steps as JSON lines
// (`RecorderEvent`) and the parent ingests them, so a SIGKILL mid-write
// leaves an invoke without its completion, which is exactly what happened.
import type { HistoryOp } from './checker.js';

export interface OpStart {
  session: string;
  region: string;
  kind: HistoryOp['kind'];
  key: string;
  /** The value a write writes (null for a delete); a read's comes with ok(). */
  value?: string | null;
}

export interface OpResult {
  /** What a read returned. */
  value?: string | null;
  /** The HLC the write was stored with (or the read saw), when known. */
  stamp?: string;
}

export type RecorderEvent =
  | ({ t: 'invoke'; id: string; at: number } & OpStart)
  | ({ t: 'ok'; id: string; at: number } & OpResult)
  | ({ t: 'fail'; id: string; at: number; error?: string } & Pick<OpResult, 'stamp'>);

export interface OpHandle {
  ok(result?: OpResult): void;
  /** A failed write may still have landed: give its stamp when known. */
  fail(error?: unknown, result?: Pick<OpResult, 'stamp'>): void;
}

export interface RecorderOptions {
  now?: () => number;
  /** Called with every step (a child process prints them as JSON lines). */
  emit?: (event: RecorderEvent) => void;
}

export class HistoryRecorder {
  private readonly ops = new Map<string, HistoryOp & { open: boolean }>();
  private readonly now: () => number;
  private nextId = 0;

  constructor(private readonly options: RecorderOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  invoke(start: OpStart): OpHandle {
    const id = String(this.nextId++);
    this.own({ t: 'invoke', id, at: this.now(), ...start });
    let settled = false;
    const settle = (event: RecorderEvent) => {
      if (settled) return;
      settled = true;
      this.own(event);
    };
    return {
      ok: (result = {}) => settle({ t: 'ok', id, at: this.now(), ...result }),
      fail: (error) =>
        settle({ t: 'fail', id, at: this.now(), error: error === undefined ? undefined : String(error) }),
    };
  }

  /** Runs one call as one op: ok with what `result` makes of its answer, fail when it throws. */
  async run<T>(start: OpStart, call: () => Promise<T>, result?: (answer: T) => OpResult): Promise<T> {
    const op = this.invoke(start);
    try {
      const answer = await call();
      op.ok(result?.(answer));
      return answer;
    } catch (err) {
      op.fail(err);
      throw err;
    }
  }

  private own(event: RecorderEvent): void {
    this.options.emit?.(event);
    this.ingest(event);
  }

  /** Takes one step, from this recorder or another process's (`source` keeps their ids apart). */
  ingest(event: RecorderEvent, source = ''): void {
    const id = `${source}/${event.id}`;
    if (event.t === 'invoke') {
      const { session, region, kind, key } = event;
      const value = event.value ?? null;
      this.ops.set(id, {
        session,
        region,
        kind,
        key,
        value,
        acknowledged: false,
        startedAt: event.at,
        endedAt: Number.MAX_SAFE_INTEGER,
        open: true,
      });
      return;
    }
    const op = this.ops.get(id);
    if (!op?.open) return;
    op.open = false;
    op.endedAt = event.at;
    if (event.stamp !== undefined) op.stamp = event.stamp;
    if (event.t === 'ok') {
      op.acknowledged = true;
      if (op.kind === 'read') op.value = event.value ?? null;
    }
  }

  /** Parses one JSON line a client printed; false when the line is not a recorder step. */
  ingestLine(line: string, source = ''): boolean {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return false;
    }
    if (!isRecorderEvent(event)) return false;
    this.ingest(event, source);
    return true;
  }

  /** Every op so far, in invocation order; open ones as unacknowledged. */
  history(): HistoryOp[] {
    return [...this.ops.values()]
      .map(({ open: _open, ...op }) => op)
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Ops invoked and not completed yet. */
  openCount(): number {
    let n = 0;
    for (const op of this.ops.values()) if (op.open) n++;
    return n;
  }
}

function isRecorderEvent(x: unknown): x is RecorderEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  if (typeof e.id !== 'string' || typeof e.at !== 'number') return false;
  if (e.t === 'ok' || e.t === 'fail') return true;
  return (
    e.t === 'invoke' &&
    typeof e.session === 'string' &&
    typeof e.region === 'string' &&
    typeof e.key === 'string' &&
    (e.kind === 'write' || e.kind === 'delete' || e.kind === 'read')
  );
}
