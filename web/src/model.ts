// What the dashboard receives from control, and the colours it paints with.
import type { OutlierState, RolloutRecord } from '../../src/cli/rollout-record.js';
import type { Health, Snapshot } from '../../src/core/model.js';
import type { Operation } from '../../src/core/operations/types.js';

/** An evacuation or restore as control keeps it (core's record, with its explicit phase). */
export type { Operation };

export interface RegionJson {
  id: string;
  name: string;
  location: { lat: number; lon: number };
  capacity: number;
  load: number;
  demand: number;
  health: Health;
  dial: number;
}

/** The wire form of a snapshot (src/feed/codec.ts), as the stream sends it. */
export interface SnapshotJson {
  version: number;
  regions: RegionJson[];
  policy: {
    territories: [string, string][];
    defaultRegion: string;
    fallback: 'nearest' | 'default';
    overflow: 'shed' | 'overload';
    ttl: number;
  };
}

export interface StatusRegion {
  id: string;
  health: Health;
  why: string;
  pending: string | null;
}

export interface Status {
  version: number;
  leader: string | null;
  regions: StatusRegion[];
  operation: Operation | null;
  /** Absent before control knows rollouts; null when none ran yet. */
  rollout?: RolloutRecord | null;
  outlier?: OutlierState;
}

export interface AuditEntry {
  at: number;
  who: string;
  role: string;
  action: string;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
  version?: number;
}

export interface RegionSample {
  id: string;
  requestsPerS: number;
  load: number;
  capacity: number;
  errorRate: number;
  p99Ms: number;
  replicationLagMs: number | null;
}

export interface Sample {
  at: number;
  regions: RegionSample[];
}

export interface Session {
  name: string;
  role: 'viewer' | 'operator' | 'admin' | 'agent';
  gates: { errorRate: number; p99Ms: number; maxLoad: number; margin: number };
}

/** May move traffic (src/control/auth.ts ROLES.operate): admin may do all an operator may. */
export const canOperate = (s: Session) => s.role === 'operator' || s.role === 'admin';

// The plan control returns is core's MovePlan, as JSON.
export type { MovePlan, ProjectedStep } from '../../src/core/evacuation-plan.js';

export function toSnapshot(j: SnapshotJson): Snapshot {
  return {
    version: j.version,
    regions: new Map(j.regions.map((r) => [r.id, { ...r }])),
    policy: { ...j.policy, territories: new Map(j.policy.territories) },
  };
}

// Okabe-Ito: tell regions apart with colour vision deficiencies too.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#7A6A00', '#444444'];

/** A stable colour per region: by position in the snapshot (regions come from config order). */
export function regionColours(ids: readonly string[]): Map<string, string> {
  return new Map(ids.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
}

export const HEALTH_COLOUR: Record<Health, string> = {
  UNKNOWN: '#6e7781', // grey: no evidence yet
  HEALTHY: '#1a7f37',
  DEGRADED: '#b35900',
  DOWN: '#c62828',
  PARTITIONED: '#6f42c1',
};

export const pct = (x: number, digits = 0) => `${(x * 100).toFixed(digits)} %`;
export const num = (x: number) => (x >= 100 ? Math.round(x).toString() : x.toFixed(1));
export const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });
