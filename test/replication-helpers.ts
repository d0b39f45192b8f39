// Real redis-server and nats-server processes on free loopback ports, for the
// replication tests and benchmark. Each stops with stop() and leaves nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parse, stringify } from 'yaml';
import { configWithFreePorts, freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

export interface RunningServer {
  url: string;
  port: number;
  pid(): number | undefined;
  stop(): Promise<void>;
}

function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`${name} exited with ${child.exitCode}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`${name} did not listen on ${port}`));
        else setTimeout(attempt, 30);
      });
    };
    attempt();
  });
}

/** A crashed test or benchmark must not leave servers behind. */
function killWithParent(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

function stopper(child: ChildProcess, dir: string) {
  return () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    });
}

/** extraArgs: more redis-server options, e.g. ['--replicaof', '127.0.0.1', '6379'] (the benchmark's peer). */
export async function startRedis(program: string, extraArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(program, [...args, '--dir', dir, ...extraArgs], { stdio: 'ignore' });
  killWithParent(child);
  await waitForPort(port, child, 'redis-server');
  return { url: `redis://127.0.0.1:${port}`, port, pid: () => child.pid, stop: stopper(child, dir) };
}

export interface RunningNats extends RunningServer {
  /** Stops the server keeping its store, then starts it again on the same port. */
  restart(): Promise<void>;
}

/** extraArgs: more nats-server options, e.g. ['--auth', TOKEN]. */
export async function startNats(program: string, extraArgs: string[] = []): Promise<RunningNats> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-nats-'));
  const launch = async () => {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'js'), ...extraArgs];
    const child = spawn(program, args, { stdio: 'ignore' });
    killWithParent(child);
    await waitForPort(port, child, 'nats-server');
    return child;
  };
  let child = await launch();
  const stopChild = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: () => child.pid,
    async restart() {
      await stopChild();
      child = await launch();
    },
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Polls until check() is true; throws with `what` after timeoutMs. No timing
 * is asserted: the default is generous (a CI machine running other suites at
 * once can be many times slower), and a check that holds returns at once.
 */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface TwoRegionsOnNats {
  east: RunningServer;
  west: RunningServer;
  nats: RunningNats;
}

/** Two Redis servers (one per region) and NATS, stopped after the test; null when a program is missing. */
export async function startTwoRegionsOnNats(t: TestContext): Promise<TwoRegionsOnNats | null> {
  const redisServer = requireProgram(t, 'redis-server');
  const natsServer = redisServer && requireProgram(t, 'nats-server');
  if (!redisServer || !natsServer) return null;
  const [east, west, nats] = await Promise.all([
    startRedis(redisServer),
    startRedis(redisServer),
    startNats(natsServer),
  ]);
  t.after(() => Promise.all([east.stop(), west.stop(), nats.stop()]));
  return { east, west, nats };
}

/** examples/two-regions.yaml with free ports and a `replication` section over these servers. */
export async function replicationConfigFile(servers: TwoRegionsOnNats, stream: string) {
  const { file } = await configWithFreePorts();
  const config = parse(readFileSync(file, 'utf8'));
  config.replication = {
    transport: 'nats',
    nats: { servers: [servers.nats.url], stream },
    regions: [
      { region: 'us-east-1', redis: servers.east.url },
      { region: 'us-west-2', redis: servers.west.url },
    ],
    probe: { interval: '200ms' },
  };
  writeFileSync(file, stringify(config));
  return { file, replication: config.replication as unknown };
}
