// What users install is what was measured: the package packed from this tree
// and installed into a clean prefix serves DNS with the batched native loop
// (the prebuilt addon inside the package), and nothing compiles at run time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { dnsConfig } from './dns-support.js';
import { installPacked } from './helpers/installed.js';
import { requireProgram } from './helpers/programs.js';

/** Programs a build would call; each stand-in only leaves a mark that it was called. */
const BUILD_TOOLS = ['cc', 'gcc', 'c++', 'g++', 'clang', 'make', 'node-gyp', 'python3', 'ld'];

test('the packed and installed `meridian dns` serves with the batched loop, no compiler at run time', async (t) => {
  const dig = requireProgram(t, 'dig');
  if (!dig) return;
  const installed = installPacked((line) => process.stdout.write(`${line}\n`));
  for (const f of ['prebuilds/linux-x64/node.napi.glibc.node', 'binding.gyp', 'src/dns/native/udp-batch.c'])
    assert.ok(existsSync(join(installed.packageDir, f)), `${f} is in the package`);

  // PATH holds node and stand-ins for every build tool, nothing else.
  const pathDir = mkdtempSync(join(tmpdir(), 'meridian-nocc-'));
  const marks = join(pathDir, 'called');
  symlinkSync(process.execPath, join(pathDir, 'node'));
  for (const tool of BUILD_TOOLS) {
    writeFileSync(join(pathDir, tool), `#!/bin/sh\necho ${tool} >> ${marks}\nexit 1\n`);
    chmodSync(join(pathDir, tool), 0o755);
  }
  const { file, dir } = await dnsConfig();
  const child = spawn(
    installed.bin,
    ['dns', '--config', file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: pathDir, HOME: dir } },
  );
  let stderr = '';
  child.stderr.on('data', (b) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`meridian dns exited with ${code}:\n${stderr}`)));
    });
    const ready = JSON.parse(line);
    assert.equal(ready.loop, 'batched', `loop ${ready.loop}: ${ready.loopWhy}\n${stderr}`);
    assert.equal(ready.batched, true);
    assert.match(ready.loopWhy, /prebuilds\/linux-x64\/node\.napi\.glibc\.node/);
    const port = String(ready.udp[0]).split(':').pop()!;

    const answer = spawnSync(
      dig,
      [
        '@127.0.0.1',
        '-p',
        port,
        '+short',
        '+time=3',
        '+tries=2',
        '+subnet=171.64.0.0/24',
        'api.example.com',
        'A',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(answer.status, 0, answer.stderr);
    assert.equal(answer.stdout.trim(), '198.51.100.10');

    // The start log says which loop serves and why (pino writes it asynchronously: wait for it).
    for (let i = 0; i < 50 && !stderr.includes('"loop"'); i++) await new Promise((r) => setTimeout(r, 100));
    const started = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.loop !== undefined);
    assert.equal(started?.loop, 'batched', stderr);
    assert.match(started?.why ?? '', /node\.napi\.glibc\.node/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const called = existsSync(marks) ? readFileSync(marks, 'utf8').trim() : '';
    rmSync(pathDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(called, '', 'no build tool is called at run time');
  }
});
