import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DRILLS, SCENARIO_ORDER } from '../chaos/drills/scenarios.js';
import type { Drill, Summary } from '../chaos/drills/types.js';
import { loadConfig, type MeridianConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import type { LinkCutChoice } from './netns.js';
import { expectedShares, populationWeights } from './population.js';
import { cliCommand } from './processes.js';
import { repeating } from './repeat.js';
import { scenarioCharts } from './report/charts.js';
import { type ReportSection, writeReport } from './report/write.js';
import { runScenario } from './scenario.js';
import { createUsers, type VirtualUser } from './users.js';

/** Scenarios that cannot be judged without the control plane (DOWN detection, DNS shift, evacuation). */
const NEEDS_CONTROL = new Set([
  'kong',
  'kong-origins',
  'evacuate',
  'split-brain',
  'bad-deploy',
  'global-bad',
  'rollout-good',
  'rollout-bad',
]);

export interface LabOptions {
  config: string;
  scenario?: string;
  durationS?: number;
  rate?: number;
  /** Run the scenarios in turn on one deployment, again and again, for this many seconds (each lasts durationS). */
  repeatForS?: number;
  report: string;
  progress: (line: string) => void;
  /** How split-brain cuts the links (default auto: the packet filter when possible). */
  linkCut?: LinkCutChoice;
}

export interface LabResult {
  summary: Summary | AllSummary;
  files: string[];
}

export interface AllSummary
  extends Omit<
    Summary,
    | 'target'
    | 'expectedShares'
    | 'p50MsByPhase'
    | 'p99MsByPhase'
    | 'latencyByTerritory'
    | 'errorRateByPhase'
    | 'retryableErrorRateByPhase'
    | 'steadyOutsideHomeShare'
    | 'cohorts'
  > {
  scenarios: Summary[];
}

/** Fails early, with the reason, when this build lacks a server the lab runs. */
export function missingParts(): string[] {
  const { command, args } = cliCommand();
  const help = spawnSync(command, [...args, '--help'], { encoding: 'utf8' }).stdout ?? '';
  const evac = ['evacuate', 'restore'];
  return ['control', 'dns', 'edge', ...evac].filter((c) => !new RegExp(`^\\s+${c}\\b`, 'm').test(help));
}

function homeResolver(config: MeridianConfig) {
  const territories = new Map(
    config.steering.territories.flatMap((t) => t.codes.map((c) => [c, t.region] as const)),
  );
  const fallback = config.steering.default ?? config.regions[0].id;
  return (place: string) => territories.get(place) ?? territories.get(place.split('-')[0]) ?? fallback;
}

function combine(summaries: Summary[]): AllSummary {
  const sum = (k: keyof Summary['requests']) => summaries.reduce((s, x) => s + x.requests[k], 0);
  const by = (name: string) => summaries.find((s) => s.scenario === name);
  const failures = summaries.flatMap((s) => s.verdict.failures.map((f) => `${s.scenario}: ${f}`));
  return {
    scenario: 'all',
    durationS: summaries.reduce((s, x) => s + x.durationS, 0),
    rate: summaries[0]?.rate ?? 0,
    linkCut: summaries[0]?.linkCut,
    regions: summaries[0]?.regions ?? [],
    requests: {
      total: sum('total'),
      ok: sum('ok'),
      failed: sum('failed'),
      failedIdempotent: sum('failedIdempotent'),
      shed: sum('shed'),
    },
    failures: Object.fromEntries(
      summaries.flatMap((s) => Object.entries(s.failures).map(([k, n]) => [`${s.scenario}: ${k}`, n])),
    ),
    sharesByPhase: Object.fromEntries(
      summaries.flatMap((s) => Object.entries(s.sharesByPhase).map(([p, v]) => [`${s.scenario}/${p}`, v])),
    ),
    failuresByKind: {
      idempotent: summaries.reduce((s, x) => s + x.failuresByKind.idempotent, 0),
      postWithKey: summaries.reduce((s, x) => s + x.failuresByKind.postWithKey, 0),
      post: summaries.reduce((s, x) => s + x.failuresByKind.post, 0),
    },
    failover: by('kong')?.failover ?? {
      detectMs: null,
      edgeShiftMs: null,
      dnsShiftMs: null,
      userErrorWindowMs: { all: null, idempotent: null, postWithKey: null, post: null },
    },
    evacuation: by('evacuate')?.evacuation ?? { steps: null, durationS: null, maxLoadRatio: null },
    splitBrain: by('split-brain')?.splitBrain ?? { flaps: null, lostWrites: null, divergentKeys: null },
    dataSetup: summaries[0]?.dataSetup ?? 'memory',
    data: sumData(summaries.map((s) => s.data)),
    declaredDown: [...new Set(summaries.flatMap((s) => s.declaredDown))],
    dnsFlaps: summaries.reduce((s, x) => s + x.dnsFlaps, 0),
    control: {
      ...(by('kong') ?? summaries[0]).control,
      leaderChanges: summaries.some((s) => s.control.leaderChanges === null)
        ? null
        : summaries.reduce((n, s) => n + (s.control.leaderChanges ?? 0), 0),
      leaders: [],
    },
    servedByOwnEdge: Object.fromEntries(
      (summaries[0]?.regions ?? []).map((r) => [r, summaries.every((s) => s.servedByOwnEdge[r] === true)]),
    ),
    rollout: by('rollout-bad')?.rollout ?? by('rollout-good')?.rollout ?? null,
    outlier: by('bad-deploy')?.outlier ?? by('global-bad')?.outlier ?? null,
    versions: { deploys: [], served: {} },
    seconds: { total: [], failed: [] },
    recoveredShare: by('kong')?.recoveredShare ?? null,
    restoreSteps: by('kong')?.restoreSteps ?? null,
    events: [],
    notes: [...new Set(summaries.flatMap((s) => s.notes))],
    verdict: {
      pass: failures.length === 0,
      failures,
      checks: summaries.flatMap((s) =>
        s.verdict.checks.map((c) => ({ ...c, name: `${s.scenario}: ${c.name}` })),
      ),
    },
    scenarios: summaries,
  };
}

export async function runLab(o: LabOptions): Promise<LabResult> {
  const config = loadConfig(o.config);
  const lab = config.lab;
  const scenario = o.scenario ?? lab.scenario;
  const names = scenario === 'all' ? SCENARIO_ORDER : scenario.split(',').map((n) => n.trim());
  for (const n of names)
    if (!DRILLS.has(n))
      throw new MeridianError('BAD_ARGUMENT', `unknown scenario "${n}"`, [
        `expected one of: ${[...SCENARIO_ORDER, 'all'].join(', ')}, or a list separated by commas`,
      ]);
  const durationS = o.durationS ?? lab.duration;
  const rate = o.rate ?? lab.rate;
  if (!(durationS >= 6))
    throw new MeridianError('BAD_ARGUMENT', `--duration must be at least 6 seconds, got ${durationS}`);
  if (!(rate > 0)) throw new MeridianError('BAD_ARGUMENT', `--rate must be a positive number, got ${rate}`);
  const repeat = o.repeatForS;
  if (repeat !== undefined && !(repeat >= durationS))
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--repeat-for must be at least --duration (${durationS} s), got ${repeat}`,
    );
  const target = lab.target ?? config.regions[0].id;
  if (!config.regions.some((r) => r.id === target))
    throw new MeridianError('UNKNOWN_REGION', `lab.target "${target}" is not a region of ${o.config}`);
  const missing = missingParts();
  const withControl = !missing.includes('control');
  if (missing.includes('dns') || missing.includes('edge'))
    throw new MeridianError(
      'NOT_IMPLEMENTED',
      `meridian lab needs commands this build does not have yet: ${missing.join(', ')}`,
      ['the lab runs dns and one edge per region as their own processes; no scenario can run without them'],
    );
  const blocked = names.filter((n) => NEEDS_CONTROL.has(n) && missing.length > 0);
  if (blocked.length > 0)
    throw new MeridianError(
      'NOT_IMPLEMENTED',
      `scenario ${blocked.join(', ')} needs commands this build does not have yet: ${missing.join(', ')}`,
      [
        `without the control plane only these scenarios can run: ${SCENARIO_ORDER.filter((n) => !NEEDS_CONTROL.has(n)).join(', ')}`,
      ],
    );

  const dir = resolve(o.report);
  mkdirSync(dir, { recursive: true });
  const home = homeResolver(config);
  const weights = populationWeights(config.steering.territories.flatMap((t) => t.codes));
  const { users, missing: unplaced } = await createUsers(lab.users, weights, config.geo, lab.seed);
  const notes = [
    `${users.length} virtual users placed by 2020 population in ${weights.size - unplaced.length} places`,
    `capacities scaled so each region carries the whole lab rate at 2/3 of capacity`,
  ];
  if (unplaced.length > 0) notes.push(`no network found in the geo database for: ${unplaced.join(', ')}`);
  const homeOf = (u: VirtualUser) => home(u.place);
  const expected = expectedShares(new Map([...weights].filter(([p]) => !unplaced.includes(p))), (code) =>
    home(code),
  );
  const summaries: Summary[] = [];
  const sections: ReportSection[] = [];
  const minimum = (d: Drill) => {
    const min = d.minDurationS;
    return Math.max(durationS, (typeof min === 'function' ? min(config.regions.length) : min) ?? 0);
  };
  const chosen = names.map((n) => DRILLS.get(n)!);
  // Repeated: one drill made of the others, each in a slot long enough for the longest of them.
  const slotS = Math.max(...chosen.map(minimum));
  const drills =
    repeat === undefined ? chosen : [repeating(chosen, slotS, Math.max(repeat, slotS), lab.repeatTarget)];
  for (const drill of drills) {
    const name = drill.name;
    const runS = repeat === undefined ? minimum(drill) : slotS;
    const longer = runS > durationS ? `; it needs at least ${runS} s, more than --duration ${durationS}` : '';
    o.progress(`${name}: ${drill.description} (${runS} s at ${rate} req/s, target ${target}${longer})`);
    const { summary, recorder } = await runScenario(drill, {
      configFile: o.config,
      config,
      dir,
      durationS: runS,
      totalS: repeat === undefined ? undefined : Math.floor(repeat / slotS) * slotS,
      rate,
      target,
      users,
      homeOf,
      expectedShares: expected,
      notes: longer ? [...notes, `${name} ran ${runS} s${longer}`] : [...notes],
      progress: o.progress,
      withControl,
      linkCut: o.linkCut,
    });
    o.progress(`${name}: ${summary.verdict.pass ? 'PASS' : `FAIL (${summary.verdict.failures.join('; ')})`}`);
    summaries.push(summary);
    sections.push({ scenario: name, charts: scenarioCharts(name, recorder), summary });
  }
  const summary = summaries.length === 1 ? summaries[0] : combine(summaries);
  const files = writeReport(dir, `meridian lab: ${scenario}`, sections, summary);
  return { summary, files };
}

/** The history checks of the scenarios that ran one, added up; null when none did. */
export function sumData(all: readonly Summary['data'][]): Summary['data'] {
  const ran = all.filter((d) => d !== null);
  if (ran.length === 0) return null;
  const sum = (k: 'acknowledged' | 'lost' | 'divergent' | 'staleReads') => ran.reduce((n, d) => n + d[k], 0);
  return {
    acknowledged: sum('acknowledged'),
    lost: sum('lost'),
    divergent: sum('divergent'),
    staleReads: sum('staleReads'),
  };
}
