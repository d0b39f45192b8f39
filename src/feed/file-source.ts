import { readFileSync, statSync } from 'node:fs';
import { formatProblem, type MeridianConfig, parseConfigText, snapshotFromConfig } from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SnapshotSource } from './source.js';

export interface FileSourceOptions {
  /** How often to look for a change; default: the file's zone.reloadInterval. */
  intervalMs?: number;
  log?: Logger;
}

/**
 * Serves the snapshot written in a config file and re-reads the file when it
 * changes. A broken edit is logged and ignored: the last good file goes on
 * being served.
 */
export class FileSnapshotSource implements SnapshotSource {
  private cfg!: MeridianConfig;
  private snap!: Snapshot;
  private text = '';
  private mtimeMs = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(s: Snapshot, c: MeridianConfig) => void>();

  constructor(
    readonly file: string,
    private readonly options: FileSourceOptions = {},
  ) {}

  current(): Snapshot {
    return this.snap;
  }

  config(): MeridianConfig {
    return this.cfg;
  }

  onChange(listener: (s: Snapshot, c: MeridianConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const text = this.read();
    const { config, problems } = parseConfigText(text, this.file);
    if (!config) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `${this.file}: ${problems.length} problem(s)`,
        problems.map(formatProblem),
      );
    }
    this.apply(text, config);
    const interval = this.options.intervalMs ?? config.zone.reloadInterval;
    this.timer = setInterval(() => this.poll(), interval);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  /** Checks the file now; returns true when a new snapshot was taken. */
  poll(): boolean {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch (e) {
      this.options.log?.warn(
        { file: this.file, err: (e as Error).message },
        'config file unreadable; serving the last good one',
      );
      return false;
    }
    if (mtimeMs === this.mtimeMs) return false;
    let text: string;
    try {
      text = this.read();
    } catch {
      return false;
    }
    if (text === this.text) {
      this.mtimeMs = mtimeMs;
      return false;
    }
    const { config, problems } = parseConfigText(text, this.file);
    if (!config) {
      // Remember this mtime so a broken file is reported once, not every poll.
      this.mtimeMs = mtimeMs;
      this.options.log?.error(
        { file: this.file, problems: problems.map(formatProblem) },
        'config change rejected',
      );
      return false;
    }
    this.apply(text, config);
    this.options.log?.info({ file: this.file, version: this.snap.version }, 'config reloaded');
    for (const l of this.listeners) l(this.snap, this.cfg);
    return true;
  }

  reload(config: MeridianConfig): void {
    let text: string;
    try {
      text = this.read();
    } catch {
      text = this.text;
    }
    this.apply(text, config);
    for (const l of this.listeners) l(this.snap, this.cfg);
  }

  private read(): string {
    try {
      this.mtimeMs = statSync(this.file).mtimeMs;
      return readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new MeridianError('CONFIG_UNREADABLE', `${this.file}: ${(e as Error).message}`);
    }
  }

  private apply(text: string, config: MeridianConfig) {
    this.text = text;
    this.cfg = config;
    this.snap = snapshotFromConfig(config, { version: (this.snap?.version ?? 0) + 1 });
  }
}
