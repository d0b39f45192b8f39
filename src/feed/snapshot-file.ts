import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Snapshot } from '../core/model.js';
import { snapshotFromJson, snapshotToJson } from './codec.js';

export type SnapshotFileRead =
  | { kind: 'ok'; snapshot: Snapshot }
  | { kind: 'missing' }
  /** Unreadable or not a snapshot; movedTo is where it now is (null: could not move it). */
  | { kind: 'corrupt'; err: string; movedTo: string | null };

/**
 * Reads the last good snapshot. A corrupt file is moved aside to
 * `<file>.corrupt-<time>` (kept for a post-mortem, and so the next start does
 * not trip on it again) and reported as such.
 */
export function readSnapshotFile(file: string): SnapshotFileRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', err: (e as Error).message, movedTo: moveAside(file) };
  }
  try {
    return { kind: 'ok', snapshot: snapshotFromJson(JSON.parse(text)) };
  } catch (e) {
    const err = e as Error & { details?: string[] };
    const why = err.details ? `${err.message}: ${err.details.slice(0, 3).join('; ')}` : err.message;
    return { kind: 'corrupt', err: why, movedTo: moveAside(file) };
  }
}

/** Write, then rename: a crash mid-write never leaves a torn snapshot file. */
export function writeSnapshotFile(file: string, snapshot: Snapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshotToJson(snapshot)));
  renameSync(tmp, file);
}

function moveAside(file: string): string | null {
  const to = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, to);
    return to;
  } catch {
    // Another worker of the same server moved it first, or the directory is read-only.
    return null;
  }
}
