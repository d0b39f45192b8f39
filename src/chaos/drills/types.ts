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
  /** SIGKILLs every process of the region: edge, DNS server, control instance, etcd member, origins. */
  killRegion(region: string): Promise<void>;
  /** Brings them all back on the same ports. */
  restartRegion(region: string): Promise<void>;
  killOrigins(region: string): Promise<void>;
  restartOrigins(region: string): Promise<void>;
  setOriginFault(region: string, fault: OriginFault | null): Promise<void>;
  /** Cut (or heal with false) every link between regions, or only the links touching `region`. */
  cutLinks(mode: 'blackhole' | 'reset' | false, region?: string): Promise<void>;
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
  failover: {
    detectMs: number | null;
    /** Last request a live edge sent toward the dead region's origins, ms after the kill. */
    edgeShiftMs: number | null;
    dnsShiftMs: number | null;
    /** Whole-region kong: first to last second with a failed request after the kill (ms, whole seconds), 0 if none. */
    userErrorWindowMs?: number | null;
    /** Whole-region kong: ms after the kill of the end of the last second with a failed request, null if none. */
    lastFailureMs?: number | null;
    /** Whole-region kong: failed requests in the seconds that ended a second or more before the kill. */
    failedBeforeKill?: number;
    /** Whole-region kong: ms after the kill until a control instance led again (0: the leader lived on). */
    leaderGapMs?: number | null;
    /** Steered answers' TTL (s): how long users may keep the dead region's address with the `home` policy. */
    ttlS?: number;
  };
  /** Which control setup ran, how many instances, and how often the leader changed (etcd: polled every 250 ms). */
  control: {
    setup: 'etcd' | 'sqlite' | 'none';
    instances: number;
    leaderChanges: number | null;
    /** Region of the leader over the run ('' outside every region, null when none led). */
    leaders: { t: number; region: string | null }[];
    /** kong: control declared the killed region DOWN, and restored it in steps, without its region's instance. */
    survivedRegionLoss: boolean | null;
  };
  /** Per region: at the start, its own edge served its users from its own origins. */
  servedByOwnEdge: Record<string, boolean>;
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
  verdict: { pass: boolean; failures: string[]; checks: Check[] };
}

export interface Drill {
  name: string;
  description: string;
  run(lab: LabControls): Promise<void>;
  /** The scenario's expectations, judged on what was measured. */
  checks(s: Summary): Check[];
}

export const check = (name: string, pass: boolean, detail: string): Check => ({ name, pass, detail });
