// Medians of the benchmark rounds, as text or one JSON object, with the ratio
// against each peer measured in the same run.
export interface Round {
  round: number;
  plainPerS: number;
  replicatedPerS: number;
  missingAtRead: number;
  readMs: number;
  appliedLaterThan500ms: number;
  /** Last write acknowledged in A to the last event applied in B. */
  catchUpMs: number | null;
  burstLagP50: number | null;
  burstLagP99: number | null;
  pacedPerS: number;
  pacedLagP50: number | null;
  pacedLagP99: number | null;
  pacedLagMax: number | null;
  /** Peer: Redis master + REPLICAOF replica. */
  peerPerS: number;
  peerMissingAtRead: number;
  peerCatchUpMs: number;
  peerPacedPerS: number;
  peerPacedLagP50: number | null;
  peerPacedLagP99: number | null;
  peerPacedLagMax: number | null;
}

const median = (xs: (number | null)[]) => {
  const s = xs.filter((x): x is number => x !== null).sort((p, q) => p - q);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export function report(
  rounds: Round[],
  setup: {
    writes: number;
    rounds: number;
    rate: number;
    pacedWrites: number;
    window: number;
    /** R1 or R3: the JetStream stream's replicas. */
    stream?: string;
    json: boolean;
  },
): string {
  const m = (k: keyof Round) => median(rounds.map((r) => r[k]));
  const ratio = (ours: number | null, peer: number | null) =>
    ours === null || peer === null || peer === 0 ? null : round2(ours / peer);
  const plain = m('plainPerS') ?? 0;
  const replicated = m('replicatedPerS') ?? 0;
  const peerPerS = m('peerPerS') ?? 0;
  const throughputRatio = {
    plainRedisSet: ratio(replicated, plain),
    redisReplica: ratio(replicated, peerPerS),
  };
  const summary = {
    benchmark: 'replication',
    note: 'medians of rounds on a 2-core machine shared with other work; loopback, one host',
    peers: {
      plainRedisSet: "plain SET on region A's Redis, no replication (what replication costs a writer)",
      redisReplica:
        "Redis's own replication (master + REPLICAOF replica), the same writes; one-way, no conflict resolution, nothing queued across a partition",
    },
    setup,
    /** The headline numbers; the sections below hold the rest. */
    medians: {
      replicatedWritesPerS: Math.round(replicated),
      plainRedisSetPerS: Math.round(plain),
      redisReplicaPerS: Math.round(peerPerS),
      missingAt500ms: m('missingAtRead'),
      pacedLagP99Ms: m('pacedLagP99'),
      redisReplicaPacedLagP99Ms: m('peerPacedLagP99'),
    },
    /** Write throughput against each peer (lag ratios are under pacedLagMs and missingAt500ms). */
    ratio: throughputRatio,
    writeThroughput: {
      replicatedPerS: Math.round(replicated),
      plainRedisSetPerS: Math.round(plain),
      redisReplicaPerS: Math.round(peerPerS),
      ratio: throughputRatio,
    },
    missingAt500ms: {
      readSweep: m('missingAtRead'),
      byApplyTime: m('appliedLaterThan500ms'),
      readSweepMs: m('readMs'),
      catchUpMs: m('catchUpMs'),
      peer: { redisReplica: { readSweep: m('peerMissingAtRead'), catchUpMs: m('peerCatchUpMs') } },
      ratio: { redisReplica: { catchUpMs: ratio(m('catchUpMs'), m('peerCatchUpMs')) } },
    },
    burstLagMs: { p50: m('burstLagP50'), p99: m('burstLagP99') },
    pacedLagMs: {
      ratePerS: Math.round(m('pacedPerS') ?? 0),
      p50: m('pacedLagP50'),
      p99: m('pacedLagP99'),
      max: m('pacedLagMax'),
      peer: {
        redisReplica: {
          ratePerS: Math.round(m('peerPacedPerS') ?? 0),
          p50: m('peerPacedLagP50'),
          p99: m('peerPacedLagP99'),
          max: m('peerPacedLagMax'),
        },
      },
      ratio: { redisReplica: { p99: ratio(m('pacedLagP99'), m('peerPacedLagP99')) } },
    },
    goals: {
      throughputAtLeast04xSet: (throughputRatio.plainRedisSet ?? 0) >= 0.4,
      noneMissingAt500ms: rounds.every((r) => r.missingAtRead === 0 && r.appliedLaterThan500ms === 0),
      pacedP99Under100ms: (m('pacedLagP99') ?? Number.POSITIVE_INFINITY) < 100,
      pacedRateReached: (m('pacedPerS') ?? 0) >= 0.95 * setup.rate,
    },
    rounds,
  };
  if (setup.json) return `${JSON.stringify(summary)}\n`;
  const w = summary.writeThroughput;
  const miss = summary.missingAt500ms;
  const pl = summary.pacedLagMs;
  const peerPl = pl.peer.redisReplica;
  const lines = [
    `replication benchmark${setup.stream ? `, ${setup.stream} stream` : ''}: ${setup.writes} writes in region A through the outbox, ${setup.rounds} rounds (medians; shared 2-core machine)`,
    `  write throughput   replicated ${w.replicatedPerS}/s   plain Redis SET ${w.plainRedisSetPerS}/s (ratio ${w.ratio.plainRedisSet})   Redis master+replica ${w.redisReplicaPerS}/s (ratio ${w.ratio.redisReplica})`,
    `  missing in B 500 ms after the last write: read sweep ${miss.readSweep} (sweep took ${miss.readSweepMs} ms), by apply time ${miss.byApplyTime}; all applied ${fmt(miss.catchUpMs)} after the last write`,
    `    peer Redis replica: read sweep ${miss.peer.redisReplica.readSweep}; caught up ${fmt(miss.peer.redisReplica.catchUpMs)} after the last write (ratio ${miss.ratio.redisReplica.catchUpMs ?? 'n/a: the peer took 0 ms, polled every 1 ms'})`,
    `  lag while writing flat out   p50 ${fmt(summary.burstLagMs.p50)}   p99 ${fmt(summary.burstLagMs.p99)}`,
    `  lag at ${pl.ratePerS} writes/s   p50 ${fmt(pl.p50)}   p99 ${fmt(pl.p99)}   max ${fmt(pl.max)}`,
    `    peer Redis replica at ${peerPl.ratePerS}/s   p50 ${fmt(peerPl.p50)}   p99 ${fmt(peerPl.p99)}   max ${fmt(peerPl.max)}   (p99 ratio ${pl.ratio.redisReplica.p99})`,
    `  goals: throughput >= 0.4x SET ${summary.goals.throughputAtLeast04xSet ? 'met' : 'NOT met'}; none missing at 500 ms ${summary.goals.noneMissingAt500ms ? 'met' : 'NOT met'}; p99 < 100 ms at ${setup.rate}/s ${summary.goals.pacedP99Under100ms && summary.goals.pacedRateReached ? 'met' : 'NOT met'}${summary.goals.pacedRateReached ? '' : ' (rate not reached)'}`,
  ];
  return `${lines.join('\n')}\n`;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const fmt = (ms: number | null) => (ms === null ? '-' : `${Math.round(ms)} ms`);
