// Shared by the test/dns-*.test.ts suites: start `meridian dns` as a user
// would, and ask it questions with the real kdig and dig.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse, stringify } from 'yaml';
import { type MeridianConfig, parseConfigText } from '../src/config/index.js';
import { configWithFreePorts } from './helpers/ports.js';

export interface RunningDns {
  port: number;
  admin: string;
  ready: Record<string, unknown>;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** examples/two-regions.yaml with free ports, changed by `edit`, written to a temp file. */
// biome-ignore lint/suspicious/noExplicitAny: a yaml document, edited freely by each suite
type Doc = Record<string, any>;

/** A third region, eu-west-1 (Dublin), with addresses and an origin for the first service. */
export function addEurope(doc: Doc): void {
  doc.regions.push({
    id: 'eu-west-1',
    location: { lat: 53.3, lon: -6.3 },
    capacity: 1000,
    addresses: { ipv4: ['203.0.113.10'], ipv6: ['2001:db8:3::10'] },
    edge: 'http://127.0.0.1:8301',
  });
  doc.services[0].origins.push({ region: 'eu-west-1', urls: ['http://127.0.0.1:9301'] });
}

export async function dnsConfig(edit: (doc: Doc) => void = () => {}) {
  const { file, dir } = await configWithFreePorts('examples/two-regions.yaml');
  const doc = parse(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, stringify(doc));
  return { file, dir };
}

export function startDns(
  configFile: string,
  args: string[] = ['--listen', '127.0.0.1:0', '--workers', '1'],
  env: NodeJS.ProcessEnv = {},
) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'dns', '--config', configFile, '--admin', '127.0.0.1:0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let err = '';
  child.stderr?.on('data', (b) => {
    err = (err + b.toString()).slice(-20_000);
  });
  return new Promise<RunningDns>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s:\n${err}`)), 60_000);
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      clearTimeout(timer);
      const ready = JSON.parse(line);
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      resolve({
        port: Number(String(ready.udp[0]).split(':').pop()),
        admin: ready.admin,
        ready,
        child,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`meridian dns exited with ${code}:\n${err}`));
    });
  });
}

export interface KdigJson {
  ID: number;
  QR: number;
  Opcode: number;
  AA: number;
  TC: number;
  RD: number;
  RCODE: number;
  QNAME?: string;
  ANCOUNT: number;
  answerRRs?: {
    NAME: string;
    TYPEname: string;
    TTL: number;
    rdataA?: string;
    rdataAAAA?: string;
    [k: string]: unknown;
  }[];
  authorityRRs?: { NAME: string; TYPEname: string; TTL: number; [k: string]: unknown }[];
  additionalRRs?: {
    NAME: string;
    TYPE: number;
    CLASS: number;
    TTL: number;
    RDATAHEX?: string;
    [k: string]: unknown;
  }[];
  [k: string]: unknown;
}

/** kdig with JSON output (RFC 8427); `server` is 127.0.0.1 unless given. */
export function kdig(port: number, args: string[], server = '127.0.0.1'): KdigJson {
  const r = spawnSync(
    'kdig',
    [`@${server}`, '-p', String(port), '+json', '+timeout=3', '+retry=1', ...args],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const start = r.stdout.indexOf('{\n');
  try {
    return JSON.parse(r.stdout.slice(start));
  } catch {
    throw new Error(`kdig ${args.join(' ')}: no answer\n${r.stdout}${r.stderr}`);
  }
}

/** kdig without blocking the event loop: for servers running in this process. */
export function kdigAsync(port: number, args: string[]): Promise<KdigJson> {
  return new Promise((resolve, reject) => {
    execFile(
      'kdig',
      ['@127.0.0.1', '-p', String(port), '+json', '+timeout=3', '+retry=1', ...args],
      (_, stdout, stderr) => {
        try {
          // A try that timed out prints an empty object before the retry's answer: take the last one.
          const objects = stdout
            .slice(stdout.indexOf('{\n'))
            .split(/\n(?=\{\n)/)
            .map((o) => JSON.parse(o) as KdigJson)
            .filter((o) => Object.keys(o).length > 0);
          if (objects.length === 0) throw new Error('no answer');
          resolve(objects.at(-1)!);
        } catch {
          reject(new Error(`kdig ${args.join(' ')}: no answer\n${stdout}${stderr}`));
        }
      },
    );
  });
}

/** Several kdig answers from one run (several queries on the command line). */
export function kdigText(port: number, args: string[]): string {
  const r = spawnSync('kdig', ['@127.0.0.1', '-p', String(port), '+timeout=3', '+retry=1', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.stdout + r.stderr;
}

export function dig(port: number, args: string[]): string {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.stdout + r.stderr;
}

/** dig without blocking the event loop: for servers running in this process. */
export function digAsync(port: number, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args], (_, stdout, stderr) =>
      resolve(stdout + stderr),
    );
  });
}

/** The ECS option in a kdig JSON answer: family, source, scope, address hex. */
export function ecsOf(answer: KdigJson): { family: number; source: number; scope: number } | null {
  const opt = answer.additionalRRs?.find((rr) => rr.TYPE === 41);
  const hex = opt?.RDATAHEX ?? '';
  for (let i = 0; i + 8 <= hex.length; ) {
    const code = Number.parseInt(hex.slice(i, i + 4), 16);
    const len = Number.parseInt(hex.slice(i + 4, i + 8), 16);
    if (code === 8) {
      const d = hex.slice(i + 8, i + 8 + len * 2);
      return {
        family: Number.parseInt(d.slice(0, 4), 16),
        source: Number.parseInt(d.slice(4, 6), 16),
        scope: Number.parseInt(d.slice(6, 8), 16),
      };
    }
    i += 8 + len * 2;
  }
  return null;
}

export const addressesOf = (a: KdigJson) =>
  (a.answerRRs ?? []).map((rr) => rr.rdataA ?? rr.rdataAAAA).filter(Boolean);

export async function metricsText(admin: string): Promise<string> {
  const res = await fetch(`http://${admin}/metrics`);
  return res.text();
}

const example = parse(readFileSync('examples/two-regions.yaml', 'utf8'));

/** examples/two-regions.yaml as a parsed config, changed by `edit` first; fails the test on a problem. */
// biome-ignore lint/suspicious/noExplicitAny: a yaml document, edited freely by each suite
export function exampleConfig(edit: (doc: any) => void = () => {}): MeridianConfig {
  const doc = structuredClone(example);
  edit(doc);
  const { config, problems } = parseConfigText(stringify(doc), 'test.yaml');
  if (problems.length > 0) throw new Error(`example config: ${JSON.stringify(problems)}`);
  return config!;
}
