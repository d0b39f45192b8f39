// npm run bench -- jepsen [--seconds N] [--seed S] [--sessions C] [--keys K] [--json]
//
// The fault sequence of test/replication-jepsen.test.ts, longer: writers in
// two regions (Redis with AOF fsync always, a 3-node NATS cluster behind
// fault proxies) through a partition and heal, a SIGKILLed relay (and writer,
// with the outbox), a SIGKILLed NATS node and a clock ahead; then the
// history is checked (src/replication/history). Exits 1 on any anomaly.
import type { TestContext } from 'node:test';
import { parseArgs } from 'node:util';
import { JepsenCluster } from '../../test/helpers/jepsen-cluster.js';
import { runFaultSequence } from '../../test/helpers/jepsen-scenario.js';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    seed: { type: 'string', default: '16' },
    sessions: { type: 'string', default: '4' },
    keys: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'usage: npm run bench -- jepsen [--seconds N] [--seed S] [--sessions C] [--keys K] [--json]\n',
  );
  process.exit(0);
}
const seconds = Number(opts.seconds);
if (!(seconds >= 10)) {
  process.stderr.write(`--seconds must be a number of at least 10, got ${opts.seconds}\n`);
  process.exit(2);
}
const log = (line: string) => opts.json || process.stderr.write(`${line}\n`);

// The cluster helpers take a test context for cleanup and skips; this is the part they use.
const cleanups: (() => unknown)[] = [];
const context = {
  after: (fn: () => unknown) => cleanups.push(fn),
  skip: (reason: string) => {
    process.stderr.write(`jepsen: ${reason}\n`);
    process.exit(1);
  },
  diagnostic: log,
} as unknown as TestContext;

let exitCode = 1;
try {
  const cluster = await JepsenCluster.start(context);
  if (!cluster) process.exit(1);
  const started = Date.now();
  // The sequence is about 6.5 phases long.
  const result = await runFaultSequence(cluster, {
    seed: Number(opts.seed),
    phaseMs: Math.round((seconds * 1000) / 6.5),
    clockAheadMs: 5000,
    sessions: Number(opts.sessions),
    keys: Number(opts.keys),
    log: (line) => log(`${((Date.now() - started) / 1000).toFixed(1)} s  ${line}`),
  });
  const ops = result.history;
  const summary = {
    seconds: Math.round((Date.now() - started) / 1000),
    seed: Number(opts.seed),
    ops: ops.length,
    writes: ops.filter((h) => h.kind !== 'read').length,
    unacknowledgedWrites: ops.filter((h) => h.kind !== 'read' && !h.acknowledged).length,
    reads: ops.filter((h) => h.kind === 'read').length,
    settled: result.settled,
    notes: result.notes,
    ...result.check,
    anomalies: result.check.anomalies.slice(0, 20),
  };
  const ok = result.settled && result.check.anomalies.length === 0;
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, ok })}\n`);
  else {
    for (const note of result.notes) log(`note: ${note}`);
    const { acknowledged, lost, divergent, staleReads, lwwViolations } = result.check;
    log(
      `${summary.ops} ops (${summary.writes} writes, ${summary.unacknowledgedWrites} not acknowledged, ${summary.reads} reads)`,
    );
    log(
      `acknowledged ${acknowledged}: lost ${lost}, divergent ${divergent}, stale reads ${staleReads}, lww ${lwwViolations}`,
    );
    for (const a of summary.anomalies) log(`  ${a.kind} ${a.key}: ${a.detail}`);
    log(ok ? 'PASS' : 'FAIL');
  }
  exitCode = ok ? 0 : 1;
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
process.exit(exitCode);
