// Health starts UNKNOWN: a control plane with no evidence of a region yet (no report from its edge)
// shows UNKNOWN, not DEGRADED, then HEALTHY once its edge reports; evidence that then stops is still
// a finding (DEGRADED or DOWN), as before. Real control server, stand-in edges (real reporter,
// real witness probes).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type FakeEdge, startFakeEdge } from './control-fake-edge.js';
import { api, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

interface RegionStatus {
  id: string;
  health: string;
  why: string;
  dial: number;
}

type Control = Awaited<ReturnType<typeof startTestControl>>;

const regions = async (control: Control) =>
  ((await api(control.url, 'GET', '/v1/status', TOKENS.viewer)).json as { regions: RegionStatus[] }).regions;

/** Samples every region's health for `ms` (longer than the warm-up, fallAfter and a few witness probes). */
async function sample(control: Control, ms: number): Promise<RegionStatus[][]> {
  const seen: RegionStatus[][] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    seen.push(await regions(control));
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

async function startEdges(control: Control, example: Awaited<ReturnType<typeof configWithFreePorts>>) {
  const east = await startFakeEdge('us-east-1', example.port(8101), control.url, TOKENS.agent);
  const west = await startFakeEdge('us-west-2', example.port(8201), control.url, TOKENS.agent);
  east.report.peers = { 'us-west-2': true };
  west.report.peers = { 'us-east-1': true };
  return [east, west];
}

const closeAll = async (edges: FakeEdge[]) => {
  for (const e of edges) await e.close();
};

test('right after start every region is UNKNOWN (not DEGRADED) until its edge reports; then HEALTHY at once; stopped evidence is DEGRADED or DOWN as before', async () => {
  const example = await configWithFreePorts();
  // No edge runs yet: the witness's probes are refused and no report arrives.
  const control = await startTestControl({}, { base: example.file });
  let edges: FakeEdge[] = [];
  try {
    // reportStaleAfter (warm-up) 1.5 s + fallAfter 0.3 s, with room to spare.
    const before = await sample(control, 3000);
    assert.ok(before.length > 5);
    for (const snapshot of before)
      for (const r of snapshot) {
        assert.equal(r.health, 'UNKNOWN', `${r.id} is ${r.health} (${r.why}) before any report`);
        assert.match(r.why, /no (evidence|report from its edge) yet/);
        assert.equal(r.dial, 100, 'UNKNOWN keeps its dial');
      }

    edges = await startEdges(control, example);
    const seen = new Set<string>();
    await waitFor(async () => {
      const now = await regions(control);
      for (const r of now) seen.add(r.health);
      return now.every((r) => r.health === 'HEALTHY');
    }, 5000);
    assert.deepEqual(
      [...seen].filter((h) => h !== 'UNKNOWN' && h !== 'HEALTHY'),
      [],
      'straight from UNKNOWN to HEALTHY',
    );
    const audit = (await api(control.url, 'GET', '/v1/audit', TOKENS.viewer)).json as unknown as {
      entries: { action: string; target: string; details?: { from?: string; to?: string } }[];
    };
    const firsts = audit.entries.filter((e) => e.action === 'health' && e.details?.from === 'UNKNOWN');
    assert.deepEqual(firsts.map((e) => `${e.target} ${e.details?.to}`).sort(), [
      'us-east-1 HEALTHY',
      'us-west-2 HEALTHY',
    ]);

    // us-east-1's edge goes away: no report, the witness refused. Not UNKNOWN again: a finding.
    await edges[0].close();
    edges = [edges[1]];
    const east = await waitFor(async () => {
      const r = (await regions(control)).find((x) => x.id === 'us-east-1')!;
      return r.health === 'DEGRADED' || r.health === 'DOWN' ? r : null;
    }, 5000);
    assert.match(east?.why ?? '', /witness cannot reach|no recent report/);
    assert.equal((await regions(control)).find((x) => x.id === 'us-west-2')!.health, 'HEALTHY');
  } finally {
    await closeAll(edges);
    await control.close();
  }
});

test('a restarted control has no evidence yet: the stored HEALTHY becomes UNKNOWN, never DEGRADED, until reports arrive', async () => {
  const example = await configWithFreePorts();
  const first = await startTestControl({}, { base: example.file });
  const stateFile = join(first.dir, 'control.db');
  let edges = await startEdges(first, example);
  try {
    await waitFor(async () => (await regions(first)).every((r) => r.health === 'HEALTHY'), 5000);
  } finally {
    await closeAll(edges);
    await first.close();
  }

  const again = await startTestControl({}, { base: example.file, dir: first.dir, stateFile });
  edges = [];
  try {
    const after = await sample(again, 3000);
    for (const snapshot of after)
      for (const r of snapshot)
        assert.ok(
          ['HEALTHY', 'UNKNOWN'].includes(r.health),
          `${r.id} is ${r.health} (${r.why}) after a restart`,
        );
    const last = after.at(-1)!;
    assert.deepEqual(
      last.map((r) => r.health),
      ['UNKNOWN', 'UNKNOWN'],
      'after the warm-up, no evidence: UNKNOWN',
    );
    edges = await startEdges(again, example);
    await waitFor(async () => (await regions(again)).every((r) => r.health === 'HEALTHY'), 5000);
  } finally {
    await closeAll(edges);
    await again.close();
  }
});
