// Medians of the benchmark rounds, as text or one JSON object.
export interface Round {
  round: number;
  plainPerS: number;
  replicatedPerS: number;
  missingAtRead: number;
  readMs: number;
  appliedLaterThan500ms: number;
  burstLagP50: number | null;
  burstLagP99: number | null;
  pacedPerS: number;
  pacedLagP50: number | null;
  pacedLagP99: number | null;
  pacedLagMax: number | null;
}

const median = (xs: (number | null)[]) => {
  const s = xs.filter((x): x is number => x !== null).sort((p, q) => p - q);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export function report(
  rounds: Round[],
  setup: { writes: number; rounds: number; rate: number; pacedWrites: number; window: number; json: boolean },
): string {
  const m = (k: keyof Round) => median(rounds.map((r) => r[k]));
  const plain = m('plainPerS') ?? 0;
  const replicated = m('replicatedPerS') ?? 0;
  const summary = {
    benchmark: 'replication',
    note: 'medians of rounds on a 2-core machine shared with other work; loopback, one host',
    setup,
    writeThroughput: {
      replicatedPerS: Math.round(replicated),
      plainRedisSetPerS: Math.round(plain),
      ratio: round2(replicated / plain),
    },
    missingAt500ms: {
      readSweep: m('missingAtRead'),
      byApplyTime: m('appliedLaterThan500ms'),
      readSweepMs: m('readMs'),
    },
    burstLagMs: { p50: m('burstLagP50'), p99: m('burstLagP99') },
    pacedLagMs: {
      ratePerS: Math.round(m('pacedPerS') ?? 0),
      p50: m('pacedLagP50'),
      p99: m('pacedLagP99'),
      max: m('pacedLagMax'),
    },
    goals: {
      noneMissingAt500ms: rounds.every((r) => r.missingAtRead === 0 && r.appliedLaterThan500ms === 0),
      pacedP99Under100ms: (m('pacedLagP99') ?? Number.POSITIVE_INFINITY) < 100,
    },
    rounds,
  };
  if (setup.json) return `${JSON.stringify(summary)}\n`;
  const lines = [
    `replication benchmark: ${setup.writes} writes in region A, ${setup.rounds} rounds (medians; shared 2-core machine)`,
    `  write throughput   replicated ${summary.writeThroughput.replicatedPerS}/s   plain Redis SET ${summary.writeThroughput.plainRedisSetPerS}/s   ratio ${summary.writeThroughput.ratio}`,
    `  missing in B 500 ms after the last write: read sweep ${summary.missingAt500ms.readSweep} (sweep took ${summary.missingAt500ms.readSweepMs} ms), by apply time ${summary.missingAt500ms.byApplyTime}`,
    `  lag while writing flat out   p50 ${fmt(summary.burstLagMs.p50)}   p99 ${fmt(summary.burstLagMs.p99)}`,
    `  lag at ${summary.pacedLagMs.ratePerS} writes/s   p50 ${fmt(summary.pacedLagMs.p50)}   p99 ${fmt(summary.pacedLagMs.p99)}   max ${fmt(summary.pacedLagMs.max)}`,
    `  goals: none missing at 500 ms ${summary.goals.noneMissingAt500ms ? 'met' : 'NOT met'}; p99 < 100 ms at ${setup.rate}/s ${summary.goals.pacedP99Under100ms ? 'met' : 'NOT met'}`,
  ];
  return `${lines.join('\n')}\n`;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const fmt = (ms: number | null) => (ms === null ? '-' : `${Math.round(ms)} ms`);
