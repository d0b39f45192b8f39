// A NATS JetStream cluster of real nats-server processes on free loopback
// ports (src/lab/nats-node.ts), stopped after the test. Routes are direct
// unless routeUrl maps a node to another address (a fault proxy in front of it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { NatsNode, type NatsNodePlan } from '../../src/lab/nats-node.js';
import { freePort } from './ports.js';
import { requireProgram } from './programs.js';

export interface NatsCluster {
  nodes: NatsNode[];
  plans: NatsNodePlan[];
  /** Client URLs of every node, in order. */
  urls: string[];
  node(name: string): NatsNode;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  names?: string[];
  /** The route URL a node advertises (e.g. a fault proxy in front of its cluster port); direct when absent. */
  routeUrl?: (plan: NatsNodePlan) => string | undefined;
  syncAlways?: boolean;
}

/** Starts the nodes and waits for JetStream's meta leader; null (test skipped) when nats-server is missing. */
export async function startNatsCluster(
  t: TestContext,
  o: NatsClusterOptions = {},
): Promise<NatsCluster | null> {
  const program = requireProgram(t, 'nats-server');
  if (!program) return null;
  const names = o.names ?? ['n1', 'n2', 'n3'];
  const dir = mkdtempSync(join(tmpdir(), 'meridian-nats-cluster-'));
  const plans: NatsNodePlan[] = [];
  for (const name of names)
    plans.push({
      name,
      clientPort: await freePort(),
      clusterPort: await freePort(),
      monitorPort: await freePort(),
    });
  for (const p of plans) p.advertisedRouteUrl = o.routeUrl?.(p);
  const nodes = plans.map(
    (plan) =>
      new NatsNode({
        program,
        plan,
        cluster: plans,
        dataRoot: join(dir, 'data'),
        logDir: join(dir, 'logs'),
        syncAlways: o.syncAlways,
      }),
  );
  const cluster: NatsCluster = {
    nodes,
    plans,
    urls: nodes.map((n) => n.clientUrl),
    node: (name) => nodes.find((n) => n.name === name)!,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => cluster.stop());
  for (const n of nodes) n.start();
  await Promise.all(nodes.map((n) => n.healthy()));
  return cluster;
}
