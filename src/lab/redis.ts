// One region's Redis in the lab, run as its own process with its data under
// DIR/<name>: an append-only file fsynced on every write, so a SIGKILLed
// Redis restarts with every write it acknowledged (the region's cache and
// its outbox live there).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MeridianError } from '../errors.js';
import { findProgram } from './programs.js';

/** The redis-server on PATH (Debian `redis-server`), or null. */
export const findRedisServer = (): string | null => findProgram('redis-server');

export interface RedisNodeOptions {
  program: string;
  /** The region it runs in: its data directory and log are named after it. */
  name: string;
  port: number;
  dataRoot: string;
  logDir: string;
}

/** redis-server's arguments: loopback only, no RDB snapshots, AOF with fsync on every write. */
export function redisNodeArgs(o: RedisNodeOptions): string[] {
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--dir',
    join(o.dataRoot, o.name),
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--protected-mode',
    'no',
    '--loglevel',
    'warning',
    '--logfile',
    '',
  ];
}

export class RedisNode {
  private child: ChildProcess | null = null;
  private log: WriteStream | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly o: RedisNodeOptions) {}

  get name(): string {
    return this.o.name;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.o.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts Redis (again, with its append-only file when it ran before); resolves once it answers PING. */
  async start(timeoutMs = 30_000): Promise<void> {
    mkdirSync(join(this.o.dataRoot, this.o.name), { recursive: true });
    mkdirSync(this.o.logDir, { recursive: true });
    this.log = createWriteStream(join(this.o.logDir, `redis-${this.o.name}.log`), { flags: 'a' });
    const child = spawn(this.o.program, redisNodeArgs(this.o), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout!.on('data', (c: Buffer) => this.log?.write(c));
    child.stderr!.on('data', (c: Buffer) => this.log?.write(c));
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    await this.ready(timeoutMs);
  }

  /** PING answers PONG only once the append-only file is loaded (before, Redis answers LOADING). */
  private async ready(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < end) {
      if (!this.running) throw new MeridianError('INTERNAL', `lab: redis ${this.name} exited`, [last]);
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch (e) {
        last = (e as Error).message;
      } finally {
        client.disconnect();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new MeridianError('INTERNAL', `lab: redis ${this.name} not ready within ${timeoutMs} ms`, [last]);
  }

  /** SIGKILL: Redis dies with its region; what it acknowledged is in its fsynced append-only file. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      timer.unref();
      await this.exited;
      clearTimeout(timer);
    }
    this.log?.end();
  }
}
