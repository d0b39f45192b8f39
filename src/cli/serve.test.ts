import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// In a child process: the handlers are process-wide and must not change this test runner.
const run = (body: string) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { surviveRejections } from './src/cli/serve.ts';
       import { createLogger } from './src/log.ts';
       surviveRejections(createLogger('test'));
       ${body}`,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );

test('a rejected promise nobody awaited is logged and the process keeps running', () => {
  const r = run(`
    Promise.reject(new Error('store went away'));
    setTimeout(() => { process.stdout.write('still running'); process.exit(0); }, 200);`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'still running');
  const line = r.stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === 'unhandled promise rejection; still running');
  assert.ok(line, r.stderr);
  assert.equal(line.err, 'store went away');
  assert.match(line.stack, /store went away/);
});

test('an uncaught exception is logged as fatal and ends the process with 1', () => {
  const r = run(`setTimeout(() => { throw new Error('half done'); }, 10);
    setTimeout(() => process.stdout.write('still running'), 500);`);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const line = r.stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((l) => l.level === 60);
  assert.ok(line, r.stderr);
  assert.equal(line.err, 'half done');
});
