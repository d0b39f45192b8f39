// Evacuation and restore plans: the projected load of every region at every
// step, the headroom pre-check and the gates. Pure; numbers in requests/s.
import type { RegionState, Snapshot } from './model.js';
import { checkRpo } from './rpo.js';
import { spillPlan } from './spill-plan.js';

export interface RegionProjection {
  region: string;
  capacity: number;
  load: number;
  /** load / capacity, 0-1+. */
  utilization: number;
}

export interface ProjectedStep {
  dial: number;
  regions: RegionProjection[];
  /** Requests/s nobody has headroom for (shed or overload, per policy). */
  overflow: number;
}

export interface MovePlan {
  region: string;
  kind: 'evacuate' | 'restore';
  fromDial: number;
  steps: ProjectedStep[];
  /** Regions whose load rises: the ones gates are checked in. */
  receivers: string[];
  /** Requests/s that change region between the current dial and the last step. */
  moved: number;
  /** Free capacity in the receivers now. */
  headroom: number;
  /** moved * (1 + margin): what headroom must cover. */
  needed: number;
  ok: boolean;
}

/** A region's home demand; when edges have not reported demand yet its load stands in. */
export const demandOf = (r: RegionState) => (r.demand > 0 ? r.demand : r.load);

/** Where the load lands for a snapshot: each region's kept home demand plus the spill it receives. */
export function projectLoad(snapshot: Snapshot): ProjectedStep {
  const plan = spillPlan(snapshot);
  const load = new Map<string, number>();
  let overflow = 0;
  for (const r of snapshot.regions.values()) load.set(r.id, 0);
  for (const r of snapshot.regions.values()) {
    const spill = plan.get(r.id)!;
    const demand = demandOf(r);
    load.set(r.id, load.get(r.id)! + demand * spill.keep);
    let left = demand * (1 - spill.keep);
    for (const t of spill.targets) {
      const share = demand * (1 - spill.keep) * t.fraction;
      load.set(t.region, load.get(t.region)! + share);
      left -= share;
    }
    overflow += Math.max(0, left);
  }
  const regions = [...snapshot.regions.values()].map((r) => ({
    region: r.id,
    capacity: r.capacity,
    load: round(load.get(r.id)!),
    utilization: r.capacity > 0 ? round(load.get(r.id)! / r.capacity, 3) : 0,
  }));
  return { dial: -1, regions, overflow: round(overflow) };
}

export function withDial(snapshot: Snapshot, region: string, dial: number): Snapshot {
  const regions = new Map(snapshot.regions);
  const r = regions.get(region);
  if (r) regions.set(region, { ...r, dial });
  // Demand drives the spill cap; fill it from load where edges have not reported it.
  for (const [id, s] of regions) regions.set(id, { ...s, demand: demandOf(s) });
  return { ...snapshot, regions };
}

export function planMove(
  snapshot: Snapshot,
  region: string,
  steps: readonly number[],
  margin: number,
): MovePlan {
  const source = snapshot.regions.get(region);
  if (!source) throw new RangeError(`no region ${region}`);
  const fromDial = source.dial;
  const last = steps.at(-1) ?? fromDial;
  const kind = last < fromDial ? 'evacuate' : 'restore';
  const now = projectLoad(withDial(snapshot, region, fromDial));
  const projected = steps.map((dial) => ({ ...projectLoad(withDial(snapshot, region, dial)), dial }));
  const final = projected.at(-1) ?? { ...now, dial: fromDial };
  const before = new Map(now.regions.map((p) => [p.region, p.load]));
  const receivers = final.regions
    .filter((p) => p.load > (before.get(p.region) ?? 0) + 1e-9)
    .map((p) => p.region);
  const moved = round((demandOf(source) * Math.abs(fromDial - last)) / 100);
  let headroom = 0;
  for (const id of kind === 'evacuate' ? otherUp(snapshot, region) : [region]) {
    const r = snapshot.regions.get(id)!;
    headroom += Math.max(0, r.capacity - (before.get(id) ?? 0));
  }
  const needed = round(moved * (1 + margin));
  return {
    region,
    kind,
    fromDial,
    steps: projected,
    receivers,
    moved,
    headroom: round(headroom),
    needed,
    ok: headroom >= needed,
  };
}

const otherUp = (s: Snapshot, region: string) =>
  [...s.regions.values()].filter((r) => r.id !== region && r.health !== 'DOWN').map((r) => r.id);

export interface GateLimits {
  errorRate: number;
  p99Ms: number;
  maxLoad: number;
  /** Recovery-point objective: a receiver whose replication lag is above it fails. Unset: not checked. */
  rpoMs?: number;
}

export interface GateReading {
  errorRate: number;
  p99Ms: number;
  load: number;
  capacity: number;
  /** Replication lag the region's edge reported; absent when unknown (then not checked). */
  replicationLagMs?: number;
}

/** Failed gates in the receiving regions, as sentences; empty when every gate passes. */
export function checkGates(
  receivers: readonly string[],
  readings: ReadonlyMap<string, GateReading>,
  limits: GateLimits,
): string[] {
  const failures: string[] = [];
  for (const id of receivers) {
    const r = readings.get(id);
    if (!r) {
      failures.push(`${id}: no recent report`);
      continue;
    }
    if (r.errorRate > limits.errorRate)
      failures.push(`${id}: error rate ${pct(r.errorRate)} > ${pct(limits.errorRate)}`);
    if (r.p99Ms > limits.p99Ms) failures.push(`${id}: p99 ${Math.round(r.p99Ms)} ms > ${limits.p99Ms} ms`);
    if (r.capacity > 0 && r.load >= limits.maxLoad * r.capacity)
      failures.push(`${id}: load ${Math.round(r.load)}/${r.capacity} >= ${pct(limits.maxLoad)} of capacity`);
    const rpo = limits.rpoMs === undefined ? null : checkRpo(id, r.replicationLagMs, limits.rpoMs);
    if (rpo && !rpo.ok) failures.push(rpo.reason);
  }
  return failures;
}

/** "75,50,25,0" -> [75, 50, 25, 0]; null when malformed. */
export function parseSteps(text: string): number[] | null {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  if (parts.some((p) => !/^\d{1,3}$/.test(p)) || steps.some((n) => n > 100)) return null;
  return steps;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
