import { basename, join } from 'node:path';
import { loadConfig, type MeridianConfig, snapshotFromConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import type { Logger } from '../log.js';
import { compareSnapshots } from './codec.js';
import { ControlInstances, parseControlUrls } from './control-instances.js';
import { followStream, watchForLeader } from './control-stream.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';
import type { SnapshotSource } from './source.js';
import type { SnapshotSync } from './sync.js';

export interface ControlSourceOptions {
  /** One control instance, or several (a list, or one comma-separated string): see control-instances.ts. */
  controlUrl: string | readonly string[];
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
  /** While unsynced (serving the config's dials), warn this often; default 30 s. */
  unsyncedWarnMs?: number;
  /** Following an instance that is not the leader: ask the others this often whether one leads (0: never). */
  leaderCheckMs?: number;
}

export interface ControlSourceStatus extends SnapshotSync {
  reconnects: number;
  /** The control instance the stream comes from (null while none answers). */
  following: string | null;
}

type Held = Pick<Snapshot, 'epoch' | 'version'>;
const at = (s: Held) => ({ epoch: s.epoch ?? 0, version: s.version });

/**
 * Follows control's snapshot stream (SSE). Every good snapshot is written to
 * disk before it is served, so a restart with control down starts from it
 * (fail static). Control unreachable or broken: keep serving, reconnect with
 * exponential backoff and full jitter. A snapshot older, by (epoch, version),
 * than the newest one held (from the stream or the disk) is refused.
 */
export class ControlSnapshotSource implements SnapshotSource {
  private cfg!: MeridianConfig;
  private snap!: Snapshot;
  private closed = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private firstSnapshot: (() => void) | undefined;
  /** The newest snapshot control made that this process has seen (stream or disk). */
  private held: Snapshot | undefined;
  /** Control's last offer was refused as older (cleared when one is taken): not synced. */
  private refusing = false;
  private lastRefusalLog = 0;
  private unsyncedTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(s: Snapshot, c: MeridianConfig) => void>();
  private readonly state: ControlSourceStatus = {
    status: 'unsynced',
    connected: false,
    from: 'config',
    epoch: 0,
    version: 0,
    refused: 0,
    reconnects: 0,
    following: null,
  };
  readonly file: string;
  private readonly instances: ControlInstances;

  constructor(private readonly options: ControlSourceOptions) {
    this.file = join(options.stateDir ?? 'meridian-state', 'snapshot.json');
    this.instances = new ControlInstances(parseControlUrls(options.controlUrl));
  }

  current(): Snapshot {
    return this.snap;
  }

  config(): MeridianConfig {
    return this.cfg;
  }

  status(): ControlSourceStatus {
    const { connected, from } = this.state;
    const status =
      from === 'config'
        ? 'unsynced'
        : connected && from === 'control' && !this.refusing
          ? 'synced'
          : 'static';
    return { ...this.state, status };
  }

  sync(): SnapshotSync {
    const { reconnects: _, following: __, ...sync } = this.status();
    return sync;
  }

  onChange(listener: (s: Snapshot, c: MeridianConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.cfg = loadConfig(this.options.configFile);
    // Read the disk first: it is what this process holds, and control's stream
    // must not roll it back.
    const disk = readSnapshotFile(this.file);
    if (disk.kind === 'ok') this.held = disk.snapshot;
    if (disk.kind === 'corrupt') {
      // The name only: health is also served on the edge's data port.
      if (disk.movedTo) this.state.corrupt = basename(disk.movedTo);
      this.log(
        'warn',
        { file: this.file, movedTo: disk.movedTo, err: disk.err },
        'snapshot on disk is corrupt; moved aside',
      );
    }
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
    if (this.held) {
      this.log(
        'warn',
        { file: this.file, ...at(this.held) },
        'control unreachable; serving snapshot from disk',
      );
      this.use(this.held, 'disk', false);
    } else {
      this.use(snapshotFromConfig(this.cfg, { version: 0 }), 'config', false);
      this.warnUnsynced();
      this.unsyncedTimer = setInterval(() => this.warnUnsynced(), this.options.unsyncedWarnMs ?? 30_000);
      this.unsyncedTimer.unref();
    }
  }

  reload(config: MeridianConfig): void {
    this.cfg = config;
    // Without a snapshot from control the config's dials are served: take the new ones.
    const snapshot =
      this.state.from === 'config'
        ? snapshotFromConfig(config, { version: this.snap.version + 1 })
        : this.snap;
    this.snap = snapshot;
    for (const l of this.listeners) l(snapshot, config);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.unsyncedTimer);
    this.abort?.abort();
    this.wake?.();
    await this.loop;
    this.listeners.clear();
  }

  /**
   * One instance at a time: on connect prefer the one that says it leads; when
   * the stream breaks, go on round the list (backoff with jitter between tries).
   */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      this.abort = new AbortController();
      let movedToLeader = false;
      let stopWatching = () => {};
      try {
        const base = await this.instances.choose();
        this.state.following = base;
        const signal = this.abort.signal;
        stopWatching = watchForLeader(this.instances, this.options.leaderCheckMs ?? 15_000, (leader) => {
          this.log('info', { from: base, to: leader }, 'moving to the leading control instance');
          movedToLeader = true;
          this.abort?.abort();
        });
        await followStream({
          base,
          token: this.options.token,
          signal,
          idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
          log: this.options.log,
          connected: () => {
            this.state.connected = true;
            attempt = 0;
          },
          snapshot: (s) => this.offer(s),
        });
      } catch (e) {
        if (this.closed) break;
        if (!movedToLeader && (this.state.connected || attempt === 0))
          this.log(
            'warn',
            { control: this.instances.current, err: (e as Error).message },
            'snapshot stream lost; serving last snapshot',
          );
      }
      stopWatching();
      this.state.connected = false;
      this.state.following = null;
      if (this.closed) break;
      if (movedToLeader) continue;
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

  /** A snapshot from control's stream: taken unless older than the one held. */
  private offer(snapshot: Snapshot) {
    const held = this.held;
    const order = held ? compareSnapshots(snapshot, held) : 1;
    if (order < 0) {
      this.refuse(snapshot, held!);
      return;
    }
    this.refusing = false;
    if (order === 0 && this.state.from === 'control') return;
    if (held && (snapshot.epoch ?? 0) !== (held.epoch ?? 0))
      this.log(
        'warn',
        { from: at(held), to: at(snapshot) },
        'control started a new snapshot epoch; taking it',
      );
    const wasUnsynced = this.state.from === 'config' && this.snap !== undefined;
    this.held = snapshot;
    this.use(snapshot, 'control', order > 0);
    if (wasUnsynced) {
      clearInterval(this.unsyncedTimer);
      this.log('warn', at(snapshot), 'synced with control: serving its snapshot instead of the config dials');
    }
  }

  private refuse(snapshot: Snapshot, held: Snapshot) {
    this.state.refused++;
    this.refusing = true;
    const now = Date.now();
    // Control may publish a new (still older) version every second: log once a minute, count all.
    if (now - this.lastRefusalLog >= 60_000) {
      this.lastRefusalLog = now;
      this.log(
        'warn',
        { offered: at(snapshot), held: at(held), refused: this.state.refused },
        'refused a snapshot older than the one held (control restored from a backup? start it with --new-epoch)',
      );
    }
    // Starting, and control offers only older snapshots: serve the one on disk now.
    if (!this.snap) this.use(held, 'disk', false);
  }

  private warnUnsynced() {
    if (this.state.from !== 'config') return;
    this.log(
      'warn',
      { file: this.file, corruptMovedTo: this.state.corrupt, control: this.instances.urls },
      "unsynced: control unreachable and no good snapshot on disk; serving the config's dials",
    );
  }

  private use(snapshot: Snapshot, from: ControlSourceStatus['from'], persist: boolean) {
    if (persist) this.writeDisk(snapshot);
    const initial = this.snap === undefined;
    this.snap = snapshot;
    this.state.from = from;
    this.state.epoch = snapshot.epoch ?? 0;
    this.state.version = snapshot.version;
    if (this.firstSnapshot) {
      this.firstSnapshot();
      this.firstSnapshot = undefined;
    }
    if (!initial) for (const l of this.listeners) l(snapshot, this.cfg);
  }

  private writeDisk(snapshot: Snapshot) {
    try {
      writeSnapshotFile(this.file, snapshot);
    } catch (e) {
      this.log('error', { file: this.file, err: (e as Error).message }, 'cannot write snapshot to disk');
    }
  }

  private log(level: 'info' | 'warn' | 'error', obj: object, msg: string) {
    this.options.log?.[level](obj, msg);
  }
}
