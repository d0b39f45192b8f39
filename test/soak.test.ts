// meridian-test: run alone
// The soak as CI runs it: `npm run bench -- soak --minutes 2` with a fixed seed, on the packed and
// installed CLI: kong, split-brain and evacuate in turn on one deployment, every process sampled
// every 10 s. No descriptor count may grow past what it was (memory needs a longer run to be
// judged), and the run must have taken every sample its duration implies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

interface Judged {
  median: number | null;
  grows: boolean;
  judged: boolean;
  why: string;
}

test('soak: 2 minutes of drills on one deployment, nothing grows', { timeout: 900_000 }, async () => {
  const report = join(mkdtempSync(join(tmpdir(), 'meridian-soak-')), 'report');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/run.ts',
      'soak',
      '--minutes',
      '2',
      '--seed',
      '7',
      '--report',
      report,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    binary: string;
    intervalS: number;
    totalS: number;
    samples: number;
    expectedSamples: number;
    processes: { name: string; judged: boolean; pids: number[]; rss: Judged; fds: Judged; heap: Judged }[];
    charts: string[];
    verdict: { pass: boolean; failures: string[] };
  };
  const context = `${result.verdict?.failures?.join('; ')}\n${stderr.slice(-3000)}`;
  assert.equal(code, result.verdict?.pass ? 0 : 1, context);
  assert.match(result.binary, /meridian-installed\/.+\/prefix\/bin\/meridian$/, 'the installed CLI ran');
  assert.equal(result.totalS, 120);
  assert.equal(result.intervalS, 10, 'a 2-minute run samples every 10 s');
  assert.equal(result.expectedSamples, 12);
  assert.equal(result.samples, 12, context);
  const names = result.processes.map((p) => p.name);
  for (const part of ['links', 'edge-us-west-2', 'dns-us-west-2', 'origin-us-west-2/0'])
    assert.ok(names.includes(part), `${part} sampled (${names.join(', ')})`);
  const judged = result.processes.filter((p) => p.judged);
  assert.ok(
    judged.length >= 5,
    `processes that lived the whole run are judged: ${judged.map((p) => p.name)}`,
  );
  for (const p of judged) {
    assert.equal(p.pids.length, 1, `${p.name} ran as one process`);
    // Memory is judged from 10 minutes after warm-up on (judge.ts): here shown, not judged.
    assert.equal(p.rss.judged, false, `${p.name} rss: ${p.rss.why}`);
    assert.ok(p.rss.median !== null, `${p.name} rss measured`);
    assert.equal(p.fds.judged, true, `${p.name} fds judged: ${p.fds.why}`);
  }
  assert.ok(
    result.processes.some((p) => p.pids.length > 1),
    'kong killed and restarted a region: its processes show more than one pid',
  );
  for (const chart of ['rss.png', 'fds.png', 'p99.png'])
    assert.ok(existsSync(join(report, chart)), `${chart} written`);
  assert.equal(result.verdict.pass, true, context);
});
