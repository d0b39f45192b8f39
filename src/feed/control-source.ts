import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { Logger } from '../log.js';
import { snapshotFromJson, snapshotToJson } from './codec.js';
import type { SnapshotSource } from './source.js';
import { SseParser } from './sse.js';

export interface ControlSourceOptions {
  controlUrl: string;
  token: string;
  /** The local meridian.yaml: zone, services and origins always come from it. */
  configFile: string;
  /** Where the last good snapshot is kept (snapshot.json); default ./meridian-state. */
  stateDir?: string;
  log?: Logger;
  /** How long start() waits for control before serving the snapshot on disk. */
  startTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** No byte (control pings every 10 s) for this long: reconnect. */
  idleTimeoutMs?: number;
}

export interface ControlSourceStatus {
  connected: boolean;
  /** Where the snapshot being served came from. */
  from: 'control' | 'disk' | 'config';
  version: number;
  reconnects: number;
}

/**
 * Follows control's snapshot stream (SSE). Every good snapshot is written to
 * disk before it is served, so a restart with control down starts from it
 * (fail static). Control unreachable or broken: keep serving, reconnect with
 * exponential backoff and full jitter.
 */
export class ControlSnapshotSource implements SnapshotSource {
  private cfg!: MeridianConfig;
  private snap!: Snapshot;
  private closed = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private firstSnapshot: (() => void) | undefined;
  private readonly listeners = new Set<(s: Snapshot, c: MeridianConfig) => void>();
  private readonly state: ControlSourceStatus = {
    connected: false,
    from: 'config',
    version: 0,
    reconnects: 0,
  };
  readonly file: string;

  constructor(private readonly options: ControlSourceOptions) {
    this.file = join(options.stateDir ?? 'meridian-state', 'snapshot.json');
  }

  current(): Snapshot {
    return this.snap;
  }

  config(): MeridianConfig {
    return this.cfg;
  }

  status(): ControlSourceStatus {
    return { ...this.state };
  }

  onChange(listener: (s: Snapshot, c: MeridianConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.cfg = loadConfig(this.options.configFile);
    const first = new Promise<void>((resolve) => {
      this.firstSnapshot = resolve;
    });
    this.loop = this.run();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      first.then(() => true),
      new Promise<boolean>((resolve) => {
        // Not unref()ed: start() must settle even when nothing else keeps the process alive.
        timer = setTimeout(() => resolve(false), this.options.startTimeoutMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    if (waited) return;
    const disk = this.readDisk();
    if (disk) {
      this.log(
        'warn',
        { file: this.file, version: disk.version },
        'control unreachable; serving snapshot from disk',
      );
      this.use(disk, 'disk', false);
    } else {
      this.log('warn', { file: this.file }, 'control unreachable and no snapshot on disk; serving config');
      this.use(snapshotFromConfig(this.cfg, { version: 0 }), 'config', false);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
    this.listeners.clear();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      this.abort = new AbortController();
      try {
        await this.follow(this.abort.signal, () => {
          attempt = 0;
        });
      } catch (e) {
        if (this.closed) break;
        if (this.state.connected || attempt === 0)
          this.log('warn', { err: (e as Error).message }, 'snapshot stream lost; serving last snapshot');
      }
      this.state.connected = false;
      if (this.closed) break;
      const min = this.options.minBackoffMs ?? 250;
      const max = this.options.maxBackoffMs ?? 10_000;
      // Full jitter: many edges that lost control at once do not return in step.
      const delay = min + Math.random() * Math.min(max, min * 2 ** attempt);
      attempt++;
      this.state.reconnects++;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        t.unref();
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private async follow(signal: AbortSignal, onConnected: () => void): Promise<void> {
    const url = new URL('/v1/snapshots/stream', this.options.controlUrl).toString();
    const idle = this.options.idleTimeoutMs ?? 30_000;
    const res = await request(url, {
      signal,
      headers: { accept: 'text/event-stream', authorization: `Bearer ${this.options.token}` },
      headersTimeout: 5000,
      bodyTimeout: idle,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`HTTP ${res.statusCode} from ${url}: ${text.slice(0, 200)}`);
    }
    this.state.connected = true;
    onConnected();
    this.log('info', { url }, 'following control snapshot stream');
    const parser = new SseParser();
    for await (const chunk of res.body) {
      for (const event of parser.push(chunk as Buffer)) {
        if (event.event !== 'snapshot') continue;
        let snapshot: Snapshot;
        try {
          snapshot = snapshotFromJson(JSON.parse(event.data));
        } catch (e) {
          this.log('error', { err: (e as Error).message }, 'bad snapshot from control ignored');
          continue;
        }
        if (this.snap && snapshot.version === this.snap.version && this.state.from === 'control') continue;
        this.use(snapshot, 'control', true);
      }
    }
    throw new Error('snapshot stream ended');
  }

  private use(snapshot: Snapshot, from: ControlSourceStatus['from'], persist: boolean) {
    if (persist) this.writeDisk(snapshot);
    const initial = this.snap === undefined;
    this.snap = snapshot;
    this.state.from = from;
    this.state.version = snapshot.version;
    if (this.firstSnapshot) {
      this.firstSnapshot();
      this.firstSnapshot = undefined;
    }
    if (!initial) for (const l of this.listeners) l(snapshot, this.cfg);
  }

  private writeDisk(snapshot: Snapshot) {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      // Write then rename: a crash mid-write never leaves a torn snapshot.json.
      writeFileSync(tmp, JSON.stringify(snapshotToJson(snapshot)));
      renameSync(tmp, this.file);
    } catch (e) {
      this.log('error', { file: this.file, err: (e as Error).message }, 'cannot write snapshot to disk');
    }
  }

  private readDisk(): Snapshot | null {
    try {
      return snapshotFromJson(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      return null;
    }
  }

  private log(level: 'info' | 'warn' | 'error', obj: object, msg: string) {
    this.options.log?.[level](obj, msg);
  }
}
