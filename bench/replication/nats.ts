// The benchmark's JetStream: one nats-server (R1 streams) or a 3-node cluster
// (R3 streams) of NatsNode (src/lab/nats-node.ts) on free loopback ports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsNode, type NatsNodePlan } from '../../src/lab/nats-node.js';
import { freePort } from '../../test/helpers/ports.js';

export interface BenchNats {
  urls: string[];
  /** The nats-server processes (for CPU accounting). */
  pids(): number[];
  stop(): Promise<void>;
}

export async function startBenchNats(program: string, nodes: 1 | 3): Promise<BenchNats> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-nats-'));
  const plans: NatsNodePlan[] = [];
  for (let i = 1; i <= nodes; i++) {
    plans.push({
      name: `n${i}`,
      clientPort: await freePort(),
      clusterPort: await freePort(),
      monitorPort: await freePort(),
    });
  }
  const running = plans.map(
    (plan) =>
      new NatsNode({ program, plan, cluster: plans, dataRoot: join(dir, 'data'), logDir: join(dir, 'logs') }),
  );
  const stop = async () => {
    await Promise.all(running.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => {
    for (const n of running) if (n.pid) process.kill(n.pid, 'SIGKILL');
  });
  for (const n of running) n.start();
  await Promise.all(running.map((n) => n.healthy()));
  return {
    urls: running.map((n) => n.clientUrl),
    pids: () => running.flatMap((n) => (n.pid ? [n.pid] : [])),
    stop,
  };
}
