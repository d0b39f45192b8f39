// A consumer whose replicas diverged in a partition can come back led by a
// replica whose ack floor is past what this relay applied (seen with
// nats-server 2.9: ack floor 169 on the new leader, 74 applied); it then never
// delivers the events in between, though the stream still keeps them. The
// relay compares the consumer's ack floor with its own and applies what was
// skipped straight from the stream (events apply by stamp: a copy is harmless).
import type { JetStreamManager } from 'nats';
import type { SequenceFloor } from './sequence-floor.js';
import type { MessageHandler } from './transport.js';

export interface SkippedRepair {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  floor: SequenceFloor;
  handler: MessageHandler;
  /** At most this many events a round. */
  max?: number;
}

/** One round: the number of skipped events applied from the stream (0 when the consumer did not run ahead). */
export async function repairSkipped(o: SkippedRepair): Promise<number> {
  const [consumer, stream] = await Promise.all([
    o.jsm.consumers.info(o.stream, o.durable),
    o.jsm.streams.info(o.stream),
  ]);
  // Below the stream's first sequence nothing is kept any more (aged out): not waited for.
  o.floor.raiseTo(stream.state.first_seq - 1);
  const ackFloor = consumer.ack_floor.stream_seq;
  if (ackFloor <= o.floor.value) return 0;
  let applied = 0;
  for (const seq of o.floor.missing(ackFloor, o.max ?? 512)) {
    const message = await o.jsm.streams.getMessage(o.stream, { seq }).catch(() => null);
    // Deleted since (or never stored under that sequence): nothing to apply.
    if (message) {
      await o.handler(message.data);
      applied++;
    }
    o.floor.done(seq);
  }
  return applied;
}
