// One region's Redis in the lab, run as its own process with its data under
// DIR/<name>: an append-only file fsynced on every write, so a SIGKILLed
// Redis restarts with every write it acknowledged (the region's cache and
// its outbox live there).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MeridianError } from '../errors.js';
import { findProgram } from './programs.js';
import { ServerProcess } from './server-process.js';

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
  private readonly server: ServerProcess;

  constructor(private readonly o: RedisNodeOptions) {
    this.server = new ServerProcess(join(o.logDir, `redis-${o.name}.log`));
  }

  get name(): string {
    return this.o.name;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.o.port}`;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  get running(): boolean {
    return this.server.running;
  }

  /** Starts Redis (again, with its append-only file when it ran before); resolves once it answers PING. */
  async start(timeoutMs = 30_000): Promise<void> {
    mkdirSync(join(this.o.dataRoot, this.o.name), { recursive: true });
    this.server.start(this.o.program, redisNodeArgs(this.o));
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
  kill(): Promise<void> {
    return this.server.kill();
  }

  /** SIGTERM, SIGKILL after graceMs. */
  stop(graceMs = 5000): Promise<void> {
    return this.server.stop(graceMs);
  }
}
