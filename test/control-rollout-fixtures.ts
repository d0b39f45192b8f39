// A rollout plan whose deploy/rollback/verify actions are shell scripts
// writing files, and stand-in edges reporting what their region runs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startFakeEdge } from './control-fake-edge.js';
import { api, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { configWithFreePorts } from './helpers/ports.js';

export type Rollout = {
  id: string;
  status: string;
  phase: string;
  waveIndex: number;
  message: string;
  regionsReached: string[];
  regions: Record<string, { version: string; phase: string; dialBefore: number }>;
  judgements: {
    region: string;
    dial: number;
    pass: boolean;
    why: string;
    metrics: { name: string; canary: number; pass: boolean }[];
  }[];
};
export type Audit = { action: string; target?: string; details?: Record<string, unknown> };

/** The version the stand-in edges answer 30 % errors for. */
export const BAD_VERSION = 'v3';

function script(dir: string, name: string, body: string) {
  const file = join(dir, `${name}.sh`);
  writeFileSync(file, `set -e\n${body}\n`);
  return ['sh', file];
}

/** Writes the config (two-regions on free ports plus a rollout plan with small timers) into a fresh dir. */
export async function rolloutPlanFixture(opts: { slowDeployIn?: string } = {}) {
  const example = await configWithFreePorts();
  const dir = example.dir;
  const log = join(dir, 'actions.log');
  const doc = parse(readFileSync(example.file, 'utf8'));
  const slow = opts.slowDeployIn
    ? `if [ "$MERIDIAN_REGION" = "${opts.slowDeployIn}" ]; then sleep 2; fi\n`
    : '';
  doc.rollout = {
    canary: { steps: [10, 100], bake: '1s', betweenWaves: '300ms', minSamples: 3 },
    drain: { steps: [0], stepInterval: '300ms' },
    actions: {
      deploy: {
        command: script(
          dir,
          'deploy',
          `echo "deploy $MERIDIAN_REGION $MERIDIAN_VERSION $MERIDIAN_PREVIOUS_VERSION $MERIDIAN_ACTION" >> "${log}"\n${slow}printf %s "$MERIDIAN_VERSION" > "${dir}/running-$MERIDIAN_REGION"`,
        ),
        timeout: '10s',
      },
      rollback: {
        command: script(
          dir,
          'rollback',
          `echo "rollback $MERIDIAN_REGION $MERIDIAN_VERSION" >> "${log}"\nprintf %s "\${MERIDIAN_PREVIOUS_VERSION:-v1}" > "${dir}/running-$MERIDIAN_REGION"`,
        ),
        timeout: '10s',
      },
      verify: {
        command: script(
          dir,
          'verify',
          `echo "verify $MERIDIAN_REGION" >> "${log}"\ntest -f "${dir}/running-$MERIDIAN_REGION"`,
        ),
        timeout: '10s',
      },
    },
  };
  const base = join(dir, 'rollout.yaml');
  writeFileSync(base, stringify(doc));
  const running = (region: string) => {
    const f = join(dir, `running-${region}`);
    return existsSync(f) ? readFileSync(f, 'utf8') : 'v1';
  };
  /** Stand-in edges for both regions, reporting to `controlUrls` (comma-separated); the bad version answers 30 % errors. */
  const startEdges = async (controlUrls: string) => {
    const edges = [
      await startFakeEdge('us-east-1', example.port(8101), controlUrls, TOKENS.agent),
      await startFakeEdge('us-west-2', example.port(8201), controlUrls, TOKENS.agent),
    ];
    const follow = setInterval(() => {
      for (const e of edges)
        e.report = { ...e.report, errorRate: running(e.report.region) === BAD_VERSION ? 0.3 : 0.001 };
    }, 50);
    return async () => {
      clearInterval(follow);
      for (const e of edges) await e.close();
    };
  };
  return {
    dir,
    base,
    running,
    startEdges,
    actions: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

/** Reads of one control instance. */
export const rolloutClient = (url: () => string) => {
  const c = {
    current: async () =>
      (await api(url(), 'GET', '/v1/rollouts/current', TOKENS.viewer)).json.rollout as Rollout | null,
    dials: async () =>
      Object.fromEntries(
        (
          (await api(url(), 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
            id: string;
            dial: number;
          }[]
        ).map((r) => [r.id, r.dial]),
      ),
    audit: async () =>
      ((await api(url(), 'GET', '/v1/audit?limit=500', TOKENS.viewer)).json.entries as Audit[]).reverse(),
    finished: (id: string): Promise<Rollout> =>
      waitFor(
        async () => {
          const r = await c.current();
          return r?.id === id && r.status !== 'running' && r.status !== 'paused' ? r : undefined;
        },
        90_000,
        200,
      ) as Promise<Rollout>,
    /** Control judges nothing before it has had a full report window with both edges. */
    warm: () =>
      waitFor(
        async () =>
          ((await api(url(), 'GET', '/v1/status', TOKENS.viewer)).json.regions as { load: number }[]).every(
            (r) => r.load > 0,
          ),
        20_000,
        100,
      ),
  };
  return c;
};
