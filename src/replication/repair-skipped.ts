// The relay does not trust its consumer's deliveries alone. With nats-server
// 2.9.10, a consumer's replicas were seen disagreeing after a partition (one
// node's view: 169 delivered and acknowledged; another's: 74, and 94 pending),
// and in a proxy split-brain a relay's consumer delivered nothing for a while
// when the stream's leader still answered. So each round the relay compares its
// own floor with the consumer's ack floor, and with what the stream held a round
// ago when its floor has not moved since; what lies between is applied straight
// from the stream (events apply by stamp: a copy is harmless).
import type { JetStreamManager } from 'nats';
import type { Logger } from '../log.js';
import type { SequenceFloor } from './sequence-floor.js';
import type { MessageHandler } from './transport.js';

export interface SkippedRepairOptions {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  floor: SequenceFloor;
  handler: MessageHandler;
  /** At most this many events a round. */
  max?: number;
}

export interface RepairRound {
  applied: number;
  /** ran-ahead: the consumer acknowledged past the floor; stalled: the floor stood still a whole round with the stream ahead. */
  why: 'ran-ahead' | 'stalled' | null;
}

export class SkippedRepair {
  /** The floor and the stream's last sequence at the end of the previous round. */
  private previous: { floor: number; lastSeq: number } | null = null;
  /** What the last round passed over as aged out of the stream (first_seq moved past the floor). */
  private passedOver: { from: number; to: number; firstSeq: number; messages: number } | null = null;
  private failuresInARow = 0;

  constructor(private readonly o: SkippedRepairOptions) {}

  async round(): Promise<RepairRound> {
    const { jsm, stream, durable, floor } = this.o;
    const [consumer, info] = await Promise.all([
      // A consumer stuck after a partition may not answer at all; the stream still tells what it holds.
      jsm.consumers.info(stream, durable).catch(() => null),
      jsm.streams.info(stream),
    ]);
    // Below the stream's first sequence nothing is kept any more (aged out): not waited for.
    const from = floor.value;
    floor.raiseTo(info.state.first_seq - 1);
    this.passedOver =
      floor.value > from
        ? { from: from + 1, to: floor.value, firstSeq: info.state.first_seq, messages: info.state.messages }
        : null;
    let upTo = consumer?.ack_floor.stream_seq ?? 0;
    let why: RepairRound['why'] = upTo > floor.value ? 'ran-ahead' : null;
    const before = this.previous;
    // A healthy consumer moves the floor every round while the stream is ahead of it; only one
    // that delivered nothing for a whole round leaves it where it was.
    if (before && floor.value === before.floor && before.lastSeq > Math.max(upTo, floor.value)) {
      upTo = before.lastSeq;
      why = 'stalled';
    }
    let applied = 0;
    if (why)
      for (const seq of floor.missing(upTo, this.o.max ?? 512)) {
        // Deleted since (or never stored under that sequence): nothing to apply. Any other error
        // (a timeout) ends the round with the floor below this sequence, so it is tried again.
        const message = await jsm.streams.getMessage(stream, { seq }).catch((err: Error) => {
          if (/no message found/i.test(err.message)) return null;
          throw err;
        });
        if (message) {
          await this.o.handler(message.data);
          applied++;
        }
        floor.done(seq);
      }
    this.previous = { floor: floor.value, lastSeq: info.state.last_seq };
    return { applied, why: applied > 0 ? why : null };
  }

  /** A round every everyMs (each after the last ended), logged when it applied something; returns a stop. */
  every(everyMs: number, log: Logger, fields: Record<string, string>): () => void {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const next = () => {
      if (stopped) return;
      timer = setTimeout(() => void this.logged(log, fields).finally(next), everyMs);
      timer.unref();
    };
    next();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  private async logged(log: Logger, fields: Record<string, string>): Promise<void> {
    try {
      const { applied, why } = await this.round();
      this.failuresInARow = 0;
      // Rare and worth seeing: a gap the relay will never apply (aged out, or a stream state that
      // says so). A three-region split-brain once lost events that sat in the stream unapplied.
      if (this.passedOver)
        log.warn(
          { ...fields, ...this.passedOver },
          "replication repair passed over events below the stream's first sequence (aged out)",
        );
      if (applied > 0)
        log.warn(
          { ...fields, applied, why, floor: this.o.floor.value },
          why === 'stalled'
            ? 'the consumer delivered nothing for a round while the stream held more; applied it from the stream'
            : 'the consumer acknowledged events this relay never applied (its replicas diverged); applied them from the stream',
        );
    } catch (err) {
      // Unreachable now (a partition): the next round tries again. Said once it has lasted 6 rounds.
      this.failuresInARow++;
      const level = this.failuresInARow === 6 ? 'warn' : 'debug';
      log[level](
        { ...fields, err: String(err), failuresInARow: this.failuresInARow },
        'replication repair round failed; the next one tries again',
      );
    }
  }
}
