// What a drill can do to the lab, and what the lab measured: drills script
// faults against this interface and judge the summary; the lab implements it.

export interface OriginFault {
  latencyMs: number;
  errorRate: number;
}

export interface LabControls {
  readonly regions: readonly string[];
  /** The region the drill acts on. */
  readonly target: string;
  readonly durationS: number;
  /** Starts a phase (shares, errors and p99 are reported per phase) and marks it on the charts. */
  phase(name: string): void;
  /** An event marker on the charts. */
  mark(label: string): void;
  /** Resolves at this many seconds after the scenario started. */
  at(seconds: number): Promise<void>;
  killOrigins(region: string): Promise<void>;
  restartOrigins(region: string): Promise<void>;
  setOriginFault(region: string, fault: OriginFault | null): Promise<void>;
  /** Cut (or heal with false) every link between regions. */
  cutLinks(mode: 'blackhole' | 'reset' | false): Promise<void>;
  /** Evacuate through the control plane; resolves when the region's dial reached 0 (or the operation ended). */
  evacuate(region: string): Promise<void>;
  restore(region: string): Promise<void>;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface Summary {
  scenario: string;
  durationS: number;
  rate: number;
  regions: string[];
  target: string | null;
  requests: { total: number; ok: number; failed: number; failedIdempotent: number; shed: number };
  /** Failed requests by what the user saw. */
  failures: Record<string, number>;
  sharesByPhase: Record<string, Record<string, number>>;
  /** Shares the territory map and the population predict (steady). */
  expectedShares: Record<string, number>;
  p99MsByPhase: Record<string, number | null>;
  errorRateByPhase: Record<string, number>;
  failover: { detectMs: number | null; edgeShiftMs: number | null; dnsShiftMs: number | null };
  evacuation: { steps: number | null; durationS: number | null; maxLoadRatio: number | null };
  splitBrain: { flaps: number | null; lostWrites: number | null; divergentKeys: number | null };
  /** Regions control declared DOWN during the run, and DNS answer changes seen by the probes. */
  declaredDown: string[];
  dnsFlaps: number;
  recoveredShare: number | null;
  /** Dials between 0 and 100 the recovered region passed through on its way back (kong). */
  restoreSteps: number | null;
  events: { t: number; label: string }[];
  notes: string[];
  /** Present when the lab's load exceeded what the surviving regions are configured to carry (drills/shed.ts). */
  overload?: Overload;
  verdict: { pass: boolean; failures: string[]; checks: Check[] };
}

/** The lab's load above what the surviving regions carry. */
export interface Overload {
  rate: number;
  /** Capacity (req/s) of the regions serving at the worst moment, and the regions out then. */
  survivingCapacity: number;
  lostRegions: string[];
  /** Share of all requests of the run above the surviving capacity, while it was exceeded. */
  expectedShedShare: number;
}

export interface Drill {
  name: string;
  description: string;
  run(lab: LabControls): Promise<void>;
  /** The scenario's expectations, judged on what was measured. */
  checks(s: Summary): Check[];
}

export const check = (name: string, pass: boolean, detail: string): Check => ({ name, pass, detail });
