import Database from 'better-sqlite3';
import type { SnapshotJson } from '../../feed/codec.js';
import type { Logger } from '../../log.js';
import {
  type AuditEntry,
  type ControlState,
  HISTORY_KEPT,
  LeaderFlag,
  type Leadership,
  type StateStore,
  watchFailures,
} from './store.js';

/** State in one SQLite file (WAL). Several processes may share the file; leadership is a lease row. */
export class SqliteStore implements StateStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly file: string,
    private readonly log?: Logger,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS snapshots (version INTEGER PRIMARY KEY, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS leader (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires INTEGER NOT NULL);
    `);
  }

  async load(): Promise<ControlState | null> {
    const row = this.db.prepare('SELECT json FROM state WHERE id = 1').get() as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as ControlState) : null;
  }

  async commit(expected: number, next: ControlState, audit: AuditEntry[] = []): Promise<boolean> {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare('SELECT version FROM state WHERE id = 1').get() as
        | { version: number }
        | undefined;
      if ((row?.version ?? 0) !== expected) return false;
      this.db
        .prepare(
          'INSERT INTO state (id, version, json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, json = excluded.json',
        )
        .run(next.version, JSON.stringify(next));
      this.db
        .prepare('INSERT OR IGNORE INTO snapshots (version, json) VALUES (?, ?)')
        .run(next.version, JSON.stringify(next.snapshot));
      this.db.prepare('DELETE FROM snapshots WHERE version <= ?').run(next.version - HISTORY_KEPT);
      const insert = this.db.prepare('INSERT INTO audit (json) VALUES (?)');
      for (const a of audit) insert.run(JSON.stringify(a));
      return true;
    });
    return tx.immediate();
  }

  async snapshot(version: number): Promise<SnapshotJson | null> {
    const row = this.db.prepare('SELECT json FROM snapshots WHERE version = ?').get(version) as
      | { json: string }
      | undefined;
    return row ? (JSON.parse(row.json) as SnapshotJson) : null;
  }

  async record(entry: AuditEntry): Promise<void> {
    this.db.prepare('INSERT INTO audit (json) VALUES (?)').run(JSON.stringify(entry));
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    const rows = this.db.prepare('SELECT json FROM audit ORDER BY seq DESC LIMIT ?').all(limit) as {
      json: string;
    }[];
    return rows.map((r) => JSON.parse(r.json) as AuditEntry);
  }

  watch(listener: (state: ControlState) => void): () => void {
    // Another process may write the file: poll the version (cheap, indexed).
    // A locked file or a bad row fails one poll, logged; the next tick tries again.
    let seen = -1;
    let busy = false;
    const failures = watchFailures(this.log, this.kind);
    const poll = async () => {
      if (busy || !this.db.open) return;
      busy = true;
      try {
        const row = this.db.prepare('SELECT version FROM state WHERE id = 1').get() as
          | { version: number }
          | undefined;
        if (row && row.version !== seen) {
          const state = await this.load();
          if (state) listener(state);
          seen = row.version;
        }
        failures.ok();
      } catch (e) {
        failures.failed(e);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void poll(), 200);
    timer.unref();
    this.timers.add(timer);
    void poll();
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  campaign(candidate: string, ttlMs: number): Leadership {
    const flag = new LeaderFlag();
    const claim = this.db.transaction((now: number) => {
      const row = this.db.prepare('SELECT holder, expires FROM leader WHERE id = 1').get() as
        | { holder: string; expires: number }
        | undefined;
      if (row && row.holder !== candidate && row.expires > now) return false;
      this.db
        .prepare(
          'INSERT INTO leader (id, holder, expires) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET holder = excluded.holder, expires = excluded.expires',
        )
        .run(candidate, now + ttlMs);
      return true;
    });
    let closed = false;
    const tick = () => {
      if (closed) return;
      try {
        flag.set(claim.immediate(Date.now()));
      } catch {
        flag.set(false);
      }
    };
    const timer = setInterval(tick, Math.max(50, ttlMs / 3));
    timer.unref();
    this.timers.add(timer);
    queueMicrotask(tick);
    return {
      get isLeader() {
        return flag.isLeader;
      },
      onChange: (l) => flag.onChange(l),
      leader: async () => {
        const row = this.db.prepare('SELECT holder, expires FROM leader WHERE id = 1').get() as
          | { holder: string; expires: number }
          | undefined;
        return row && row.expires > Date.now() ? row.holder : null;
      },
      close: async () => {
        closed = true;
        clearInterval(timer);
        this.timers.delete(timer);
        if (this.db.open) this.db.prepare('DELETE FROM leader WHERE id = 1 AND holder = ?').run(candidate);
        flag.set(false);
      },
    };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    if (this.db.open) this.db.close();
  }
}
