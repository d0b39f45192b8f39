// The fault sequence of the Jepsen-style replication test, shared by
// test/replication-jepsen.test.ts (short, fixed seed) and `npm run bench -- jepsen`.
import { checkHistory, type DataCheck, type HistoryOp } from '../../src/replication/history/checker.js';
import { type JepsenClient, type JepsenCluster, outboxAvailable, REGIONS } from './jepsen-cluster.js';

export interface FaultSequenceOptions {
  seed: number;
  /** How long each phase runs (writers write throughout). */
  phaseMs: number;
  clockAheadMs: number;
  sessions: number;
  keys: number;
  log: (line: string) => void;
}

export interface JepsenResult {
  check: DataCheck;
  history: HistoryOp[];
  settled: boolean;
  /** What ran and what was left out on this branch. */
  notes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writers in both regions through: a partition and its heal, a SIGKILLed relay
 * (restarted), a SIGKILLed writer (only with the outbox: before it, a write
 * applied locally whose publish never happened is divergence by design), a
 * SIGKILLed NATS node (restarted), and one region's clock ahead. Then the
 * writers stop, the regions settle, and the history is checked.
 */
export async function runFaultSequence(c: JepsenCluster, o: FaultSequenceOptions): Promise<JepsenResult> {
  const notes: string[] = [];
  const [east, west] = REGIONS;
  const writerPlan = (region: (typeof REGIONS)[number], seed: number, clockOffsetMs = 0) =>
    c.plan('writer', region, { seed, sessions: o.sessions, keys: o.keys, clockOffsetMs });
  const relays = new Map(
    await Promise.all(REGIONS.map(async (r) => [r, await c.spawn(c.plan('relay', r))] as const)),
  );
  const writers = new Map<string, JepsenClient>();
  for (const [i, r] of REGIONS.entries()) writers.set(r, await c.spawn(writerPlan(r, o.seed + i)));
  await sleep(o.phaseMs);

  o.log('partition');
  c.partition();
  await sleep(o.phaseMs);
  o.log('heal');
  c.heal();
  await sleep(o.phaseMs / 2);

  o.log(`SIGKILL relay ${east}`);
  await relays.get(east)!.kill('SIGKILL');
  await sleep(300);
  relays.set(east, await c.spawn(c.plan('relay', east)));
  await sleep(o.phaseMs / 2);

  if (outboxAvailable()) {
    o.log(`SIGKILL writer ${east} while it cannot reach NATS`);
    c.isolateClients(east, true);
    await sleep(o.phaseMs / 2);
    await writers.get(east)!.kill('SIGKILL');
    c.isolateClients(east, false);
    writers.set(east, await c.spawn(writerPlan(east, o.seed + 10)));
  } else {
    notes.push('writer SIGKILL left out: needs the outbox (helper A, branch i16-outbox)');
  }

  const victim = c.nats.node(west);
  o.log(`SIGKILL nats node ${victim.name}`);
  await victim.kill();
  await sleep(o.phaseMs);
  victim.start();
  await victim.healthy();
  await sleep(o.phaseMs / 2);

  o.log(`${west}'s clock ${o.clockAheadMs} ms ahead`);
  await writers.get(west)!.kill('SIGTERM');
  await relays.get(west)!.kill('SIGTERM');
  relays.set(west, await c.spawn(c.plan('relay', west, { clockOffsetMs: o.clockAheadMs })));
  const fast = await c.spawn(writerPlan(west, o.seed + 20, o.clockAheadMs));
  writers.set(west, fast);
  if (!fast.hello.honoursNow)
    notes.push('clock ahead through HybridClock.observe (no `now` option yet: helper E)');
  await sleep(o.phaseMs);

  o.log('writers stop; settling');
  await Promise.all([...writers.values()].map((w) => w.kill('SIGTERM')));
  const settled = await c.settle();
  const replicas = await c.streamReplicas();
  notes.push(`streams: ${[...replicas].map(([s, n]) => `${s} R${n}`).join(', ')}`);
  const history = c.recorder.history();
  return { check: checkHistory(history, await c.finalState()), history, settled, notes };
}

/**
 * The deliberately broken variant (helper A's `delivery: 'unsafe-ack-before-publish'`):
 * the east writer acknowledges while it cannot reach NATS, then is SIGKILLed.
 * Only east writes, so no later write elsewhere can supersede what it loses.
 */
export async function runUnsafeWriterKill(c: JepsenCluster, o: FaultSequenceOptions) {
  const [east] = REGIONS;
  await Promise.all(REGIONS.map((r) => c.spawn(c.plan('relay', r))));
  const delivery = 'unsafe-ack-before-publish' as const;
  const writer = await c.spawn(
    c.plan('writer', east, { sessions: o.sessions, keys: o.keys, delivery, seed: o.seed }),
  );
  await sleep(o.phaseMs);
  o.log(`${east}'s writer cut from NATS, then SIGKILLed`);
  const cutAt = Date.now();
  c.isolateClients(east, true);
  await sleep(o.phaseMs / 2);
  await writer.kill('SIGKILL');
  c.isolateClients(east, false);
  // What the killed writer acknowledged but never published cannot arrive: do not wait long for it.
  const settled = await c.settle(5_000);
  const history = c.recorder.history();
  const ackedWhileCut = history.filter(
    (h) => h.region === east && h.kind !== 'read' && h.acknowledged && h.startedAt > cutAt,
  ).length;
  return { check: checkHistory(history, await c.finalState()), history, settled, ackedWhileCut };
}
