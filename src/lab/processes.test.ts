import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LabProcess } from './processes.js';

const SERVER = `console.log(JSON.stringify({ ready: true, part: 'x' })); setInterval(() => {}, 1000);`;
const openFds = () => readdirSync('/proc/self/fd').length;

test('LabProcess: a server killed and started again (a new LabProcess each life, as CliPart does) keeps no log descriptor of a past life', async (t) => {
  if (process.platform !== 'linux') return t.skip('counts descriptors in /proc');
  const dir = mkdtempSync(join(tmpdir(), 'lab-process-'));
  const life = () =>
    new LabProcess('server', [], dir, {}, () => ({ command: process.execPath, args: ['-e', SERVER] }));
  const lives: LabProcess[] = [];
  try {
    const first = life();
    lives.push(first);
    await first.start(15_000);
    await first.kill();
    await new Promise((r) => setTimeout(r, 200));
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      const p = life();
      lives.push(p);
      await p.start(15_000);
      await p.kill();
    }
    // A life's log closes once its output is drained, a moment after the exit.
    for (let i = 0; i < 50 && openFds() > before; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(openFds() <= before, `${openFds()} descriptors open after 5 more lives, ${before} before`);
    assert.equal(
      (readFileSync(join(dir, 'server.log'), 'utf8').match(/\[stdout\] \{"ready":true/g) ?? []).length,
      6,
      'every life logged',
    );
  } finally {
    await Promise.all(lives.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});
