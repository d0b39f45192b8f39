// A real `meridian control` process whose SQLite store goes bad under it (a
// file locked by another process, then a row it cannot parse) logs it, stays
// up, and serves reads and writes again once the store recovers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { startMeridian } from './helpers/cli.js';

const logLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as { msg: string; err?: string; level: number };
      } catch {
        return { msg: l, level: 60 };
      }
    });

test('control logs a failing state store, stays up, and serves again once the store recovers', async (t) => {
  const { file, dir } = controlConfigFile();
  const db = join(dir, 'control.db');
  const proc = await startMeridian(
    'control',
    ['control', '--config', file, '--listen', '127.0.0.1:0', '--state', db],
    dir,
  );
  const url = String(proc.ready.url);
  const log = join(dir, 'control.log');
  let exited: number | null | undefined;
  proc.child.once('exit', (code) => {
    exited = code;
  });
  t.after(() => stop(proc.child));
  const intruder = new Database(db);
  intruder.pragma('busy_timeout = 5000');
  t.after(() => intruder.close());
  const dial = (n: number) => api(url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: n });
  assert.equal((await dial(40)).status, 200);

  // 1. The file locked for writing by another process: control's commits and lease renewals wait
  // (busy_timeout) and then fail.
  intruder.exec('BEGIN IMMEDIATE');
  const refused = await dial(41);
  assert.ok(refused.status >= 500, `a write with the file locked: ${refused.status}`);
  await new Promise((r) => setTimeout(r, 3000));
  intruder.exec('COMMIT');
  assert.equal(exited, undefined, `control exited (${exited}) while the file was locked; see ${log}`);

  // 2. A row control cannot parse, with a newer version so its watch loop reads it.
  const good = intruder.prepare('SELECT version, json FROM state WHERE id = 1').get() as {
    version: number;
    json: string;
  };
  intruder.prepare('UPDATE state SET version = ?, json = ? WHERE id = 1').run(good.version + 1, '{not json');
  await waitFor(() => {
    if (exited !== undefined) throw new Error(`control exited (${exited}); see ${log}`);
    return logLines(log).some((l) => /cannot read the state store/.test(l.msg) && /JSON/.test(l.err ?? ''));
  }, 10_000);
  // Several more polls (every 200 ms) with the bad row in place.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(exited, undefined, `control exited (${exited}); see ${log}`);
  assert.equal((await api(url, 'GET', '/v1/status', TOKENS.viewer)).status, 200, 'reads from memory go on');

  // 3. The store recovers: a good state with a newer version.
  const fixed = JSON.parse(good.json);
  fixed.version = good.version + 2;
  fixed.snapshot.version = fixed.version;
  fixed.snapshot.regions[0].dial = 55;
  intruder
    .prepare('UPDATE state SET version = ?, json = ? WHERE id = 1')
    .run(fixed.version, JSON.stringify(fixed));
  await waitFor(() => logLines(log).some((l) => /state store readable again/.test(l.msg)), 10_000);
  await waitFor(async () => {
    const s = await api(url, 'GET', '/v1/status', TOKENS.viewer);
    return s.status === 200 && (s.json.regions as { dial: number }[])[0].dial === 55;
  }, 10_000);
  await waitFor(async () => (await dial(60)).status === 200, 10_000);
  assert.equal(exited, undefined);
  assert.ok(
    !logLines(log).some((l) => l.level >= 60),
    'nothing fatal was logged (no uncaught exception or unhandled rejection ended it)',
  );
});
