// A control plane in process on a free loopback port, with tokens of every role.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/index.js';
import { type ControlServer, startControl } from '../src/control/server.js';
import type { StreamLimits } from '../src/control/stream.js';
import { ControlSnapshotSource, type ControlSourceOptions } from '../src/feed/control-source.js';
import { createLogger, type Logger } from '../src/log.js';

export const TOKENS = {
  operator: 'operator-token-0123456789',
  viewer: 'viewer-token-0123456789',
  agent: 'agent-token-0123456789',
  admin: 'admin-token-0123456789',
  /** An agent bound to us-east-1, as a real edge's token is. */
  eastAgent: 'east-agent-token-0123456789',
};

/** Writes a config: the example (or `base`) plus a control section with tokens; `control` merges over it. */
export function controlConfigFile(
  control: Record<string, unknown> = {},
  base = 'examples/two-regions.yaml',
  dir?: string,
) {
  const doc = parse(readFileSync(base, 'utf8'));
  doc.control = {
    tokens: [
      { name: 'ops', role: 'operator', token: TOKENS.operator },
      { name: 'watcher', role: 'viewer', token: TOKENS.viewer },
      // One process plays every edge in these tests, so this agent may report for any region.
      { name: 'edges', role: 'agent', token: TOKENS.agent, regions: ['*'] },
      { name: 'root', role: 'admin', token: TOKENS.admin },
      { name: 'east-edge', role: 'agent', token: TOKENS.eastAgent, regions: ['us-east-1'] },
    ],
    health: {
      fallAfter: '300ms',
      riseAfter: '2s',
      probeInterval: '200ms',
      probeTimeout: '600ms',
      reportStaleAfter: '1500ms',
    },
    // Relative health moves traffic by itself when one stand-in edge reports errors the other does
    // not: off unless a test is about it (test/control-outlier.test.ts turns it on).
    outlier: { enabled: false },
    ...(doc.control ?? {}),
    ...control,
  };
  const where = dir ?? mkdtempSync(join(tmpdir(), 'meridian-control-'));
  const file = join(where, 'control.yaml');
  writeFileSync(file, stringify(doc));
  return { file, dir: where };
}

export async function startTestControl(
  control: Record<string, unknown> = {},
  opts: {
    base?: string;
    dir?: string;
    stateFile?: string;
    listen?: string;
    log?: Logger;
    streamLimits?: Partial<StreamLimits>;
  } = {},
): Promise<ControlServer & { dir: string; file: string }> {
  const { file, dir } = controlConfigFile(control, opts.base, opts.dir);
  const server = await startControl({
    config: loadConfig(file),
    log: opts.log ?? createLogger('control', process.env.MERIDIAN_LOG_LEVEL ?? 'silent'),
    listen: opts.listen ?? '127.0.0.1:0',
    stateFile: opts.stateFile ?? join(dir, 'control.db'),
    env: {},
    streamLimits: opts.streamLimits,
  });
  return Object.assign(server, { dir, file });
}

export async function api(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
}> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as never };
}

/** A healthy edge report for `region`, with `extra` fields on top. */
export const report = (region: string, extra: Record<string, unknown> = {}) => ({
  region,
  at: Date.now(),
  origins: [{ url: 'http://127.0.0.1:1', healthy: true }],
  requestsPerS: 10,
  errorRate: 0,
  p99Ms: 5,
  load: 10,
  capacity: 1000,
  demandByHome: { [region]: 10 },
  peers: {},
  ...extra,
});

/** A data plane's snapshot source following `control` with the agent token; its state sits in control's temp dir. */
export const followerOf = (
  control: ControlServer & { dir: string; file: string },
  options: Partial<ControlSourceOptions> = {},
) =>
  new ControlSnapshotSource({
    controlUrl: control.url,
    token: TOKENS.agent,
    configFile: control.file,
    stateDir: join(control.dir, 'follower-state'),
    ...options,
  });
