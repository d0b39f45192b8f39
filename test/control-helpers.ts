// Helpers for the control plane's tests: a three-member etcd cluster on free
// loopback ports (optionally TLS with client certificates and etcd auth), and
// waiting for conditions.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { TestPki } from './helpers/certs.js';
import { freePort } from './helpers/ports.js';

export interface EtcdCluster {
  endpoints: string[];
  members: ChildProcess[];
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  /** Clients must speak TLS and present a certificate signed by `pki.ca`. */
  pki?: TestPki;
  extraArgs?: string[];
}

export async function startEtcdCluster(
  etcd: string,
  size = 3,
  options: EtcdClusterOptions = {},
): Promise<EtcdCluster> {
  const { pki } = options;
  const scheme = pki ? 'https' : 'http';
  const tlsArgs = pki
    ? [
        '--client-cert-auth',
        `--trusted-ca-file=${pki.ca}`,
        `--cert-file=${pki.serverCert}`,
        `--key-file=${pki.serverKey}`,
      ]
    : [];
  const dir = mkdtempSync(join(tmpdir(), 'meridian-etcd-'));
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const cluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const members = ports.map((p, i) =>
    spawn(
      etcd,
      [
        `--name=m${i}`,
        `--data-dir=${join(dir, `m${i}`)}`,
        `--listen-client-urls=${scheme}://127.0.0.1:${p.client}`,
        `--advertise-client-urls=${scheme}://127.0.0.1:${p.client}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-cluster=${cluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=meridian-test-${process.pid}`,
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--log-level=error',
        ...tlsArgs,
        ...(options.extraArgs ?? []),
      ],
      { stdio: 'ignore' },
    ),
  );
  const endpoints = ports.map((p) => `${scheme}://127.0.0.1:${p.client}`);
  const dispatcher = new Agent({
    connect: pki
      ? { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }
      : {},
  });
  const stop = async () => {
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.exitCode !== null || m.signalCode !== null) return resolve();
            m.once('exit', () => resolve());
            m.kill('SIGKILL');
          }),
      ),
    );
    await dispatcher.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      for (const e of endpoints) {
        const r = await request(`${e}/health`, { dispatcher }).catch(() => null);
        if (!r || !((await r.body.json()) as { health?: unknown }).health?.toString().includes('true'))
          return false;
      }
      return true;
    }, 15_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints, members, stop };
}

/**
 * Turns on etcd authentication: a root user, and `user` whose role may read
 * and write keys under `prefix` only.
 */
export function enableEtcdAuth(
  etcdctl: string,
  cluster: EtcdCluster,
  pki: TestPki,
  user: { name: string; password: string; prefix: string },
): void {
  const ctl = (...args: string[]) => {
    const r = spawnSync(
      etcdctl,
      [
        `--endpoints=${cluster.endpoints.join(',')}`,
        ...[`--cacert=${pki.ca}`, `--cert=${pki.clientCert}`, `--key=${pki.clientKey}`],
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
    );
    if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
  };
  ctl('user', 'add', `root:root-${user.password}`);
  ctl('user', 'grant-role', 'root', 'root');
  ctl('role', 'add', `${user.name}-role`);
  ctl('role', 'grant-permission', `${user.name}-role`, '--prefix=true', 'readwrite', user.prefix);
  ctl('user', 'add', `${user.name}:${user.password}`);
  ctl('user', 'grant-role', user.name, `${user.name}-role`);
  ctl('auth', 'enable');
}

/** Polls `check` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `meridian ARGS` from source without blocking this process's event loop. */
export function runCliAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onLine?: (line: string) => void,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine?.(l);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
