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
  /**
   * Deploys a version of the lab's service (v1 at the start, v2 good, v3 bad) to the region's
   * origins, one by one, as a careless operator would (no rollout); resolves when they serve it.
   */
  deploy(region: string, version: string): Promise<void>;
  /** Starts a rollout of the version through control (POST /v1/rollouts); a refusal is noted, not thrown. */
  startRollout(version: string): Promise<void>;
  /**
   * Resolves when the rollout ended (done, rolled-back, aborted) or at `untilS` seconds after the
   * start (default: the end of the run), with its last status (null when control had none).
   */
  waitRollout(untilS?: number): Promise<string | null>;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/**
 * What a virtual user's request risks when retried: `idempotent` (GET, PUT,
 * DELETE: retried once after a dead connection), `postWithKey` (a POST with an
 * Idempotency-Key: retried like one), `post` (never retried once sent).
 */
export type RequestKind = 'idempotent' | 'postWithKey' | 'post';
export const REQUEST_KINDS: readonly RequestKind[] = ['idempotent', 'postWithKey', 'post'];

/**
 * First to last failed request (ms between when users saw them), per kind and
 * for all; null when none failed.
 */
export type ErrorWindow = Record<RequestKind | 'all', number | null>;

export interface CohortSummary {
  /** The name its users resolved, its answer policy and TTL (absent when users were not split). */
  hostname?: string;
  answers?: 'home' | 'home+fallback';
  ttlS?: number;
  /** ms after the kill until the users' resolver no longer named the dead region for its hostname. */
  resolverShiftMs?: number | null;
  /** ms after the kill of the cohort's last failed request; null when none failed after it. */
  lastFailureMs?: number | null;
  requests: number;
  failuresByKind: Record<RequestKind, number>;
  /** Over the same span as failover.userErrorWindowMs. */
  userErrorWindowMs: ErrorWindow;
  /** Of the successful requests in phase 'before' or 'steady', the share served outside the user's home region. */
  steadyOutsideHomeShare: number | null;
  /** Latency of its successful steady-state requests, distance included. */
  steadyP50Ms?: number | null;
  steadyP99Ms?: number | null;
}

/** What a rollout did, as control's GET /v1/rollouts/current said at the end (null: none ran). */
export interface RolloutSummary {
  id: string;
  version: string;
  /** Its last status: done | rolled-back | aborted, or running | paused when the run ended first. */
  result: string;
  regionsReached: string[];
  judgements: { at: number; region: string; dial: number; pass: boolean; why: string }[];
  /** Control's message of the last phase. */
  message: string;
}

/** What control's relative-health detector did during the run (read from GET /v1/status). */
export interface OutlierSummary {
  /** Regions control moved traffic away from as outliers. */
  evacuated: string[];
  /** Regions whose dial went below full during the run, for whatever reason (outlier, DOWN, an operator). */
  dialsMoved: string[];
  /** ms since the start when the lab first saw each of `evacuated` evacuated, and each of `dialsMoved` below full. */
  evacuatedAtMs: Record<string, number>;
  dialsMovedAtMs: Record<string, number>;
  /** ms from the lab's deploy that fixed the region (the last one to it) until its dial was back to full; null if not. */
  restoredAfterMs: number | null;
  /** ms since the start when control first raised `global` (all regions bad alike), null if never. */
  globalAt: number | null;
  globalWhy: string | null;
  /** Its decisions, as control reported them (the last 20 at each look). */
  decisions: { at: number; region?: string; decision: string; why: string }[];
}

export interface Summary {
  scenario: string;
  /** What cut the links between regions: a packet filter between network namespaces, or the user-space proxies. */
  linkCut?: 'packet-filter' | 'proxy';
  durationS: number;
  rate: number;
  regions: string[];
  target: string | null;
  /** `failed` and `failedIdempotent` count shed requests too (503 OVERLOAD: a failure to the user); `shed` alone as well. */
  requests: { total: number; ok: number; failed: number; failedIdempotent: number; shed: number };
  /** Failed requests by what the user saw. */
  failures: Record<string, number>;
  sharesByPhase: Record<string, Record<string, number>>;
  /** Shares the territory map and the population predict (steady). */
  expectedShares: Record<string, number>;
  p50MsByPhase: Record<string, number | null>;
  p99MsByPhase: Record<string, number | null>;
  /** Home region of the users (territory) -> phase -> latency of their successful requests. */
  latencyByTerritory: Record<string, Record<string, { p50Ms: number | null; p99Ms: number | null }>>;
  /** Failed error rate per phase; shed requests count as failed. */
  errorRateByPhase: Record<string, number>;
  /** The same for requests a client or the edge may send again: idempotent ones and POSTs with an Idempotency-Key. */
  retryableErrorRateByPhase: Record<string, number>;
  /** Failed requests (shed included) by kind. */
  failuresByKind: Record<RequestKind, number>;
  /** Share of successful steady-state requests (phase 'before' or 'steady') served outside the user's home region. */
  steadyOutsideHomeShare: number | null;
  /** Per cohort of users (the lab's cohortOf; '' when users are not split). */
  cohorts: Record<string, CohortSummary>;
  failover: {
    detectMs: number | null;
    /** Last request a live edge sent toward the dead region's origins, ms after the kill. */
    edgeShiftMs: number | null;
    dnsShiftMs: number | null;
    /** ms after the kill until the users' resolver (Unbound or the built-in) no longer named the dead region, for the config's own hostname. */
    resolverShiftMs?: number | null;
    /** First to last failed user request after the kill (from the start when nothing was killed), per kind. */
    userErrorWindowMs: ErrorWindow;
    /** Whole-region kong: ms after the kill of the last failed user request, null if none. */
    lastFailureMs?: number | null;
    /** Whole-region kong: failed user requests a second or more before the kill. */
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
  /** Kept for readers of older summaries: split-brain's `data.lost` and `data.divergent`. */
  splitBrain: { flaps: number | null; lostWrites: number | null; divergentKeys: number | null };
  /** Where the lab's sample service kept its data: each region's Redis and a NATS JetStream cluster, or memory. */
  dataSetup: 'redis+nats' | 'memory';
  /**
   * The history check after the drill (kong, split-brain; null otherwise): acknowledged writes,
   * those no copy kept (lost), keys whose copies differ (divergent), reads that went backwards.
   */
  data: { acknowledged: number; lost: number; divergent: number; staleReads: number } | null;
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
  rollout: RolloutSummary | null;
  /** Null when control did not run. */
  outlier: OutlierSummary | null;
  /**
   * The lab's deploys (ms since start; by a drill or control's rollout webhook), and per region the
   * versions its origins served, as users saw them (x-lab-version): each change, by second.
   */
  versions: {
    deploys: { t: number; region: string; version: string; by: string; phase: string }[];
    served: Record<string, { t: number; versions: string[] }[]>;
  };
  /** Requests and failed ones (shed included) in each second of the run, by when they were sent. */
  seconds: { total: number[]; failed: number[] };
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
  /**
   * Split the users into the lab's answer-policy cohorts (home and home+fallback at TTL 30 s and
   * 5 s, each on a hostname of its own), so one run measures every policy against the same fault.
   */
  cohorts?: boolean;
  /**
   * The shortest run in which the scenario's story fits (seconds): a shorter `--duration` runs this
   * long instead, and the lab says so.
   */
  minDurationS?: number | ((regions: number) => number);
  /** The scenario's expectations, judged on what was measured. */
  checks(s: Summary): Check[];
}

export const check = (name: string, pass: boolean, detail: string): Check => ({ name, pass, detail });
