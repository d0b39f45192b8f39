import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/** Full path of an outside program, or null when it is not installed. */
export function findProgram(name: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', '/sbin', '/bin']) {
    const r = spawnSync('test', ['-x', `${dir}/${name}`]);
    if (r.status === 0) return `${dir}/${name}`;
  }
  return null;
}

/**
 * The program's path; when it is missing the test is skipped with the reason
 * printed, except under CI=true where a missing program is a failure.
 */
export function requireProgram(t: TestContext, name: string): string | null {
  const path = findProgram(name);
  if (path) return path;
  const reason = `${name} is not installed (apt-get install the package that provides it)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stdout.write(`# skipping: ${reason}\n`);
  t.skip(reason);
  return null;
}
