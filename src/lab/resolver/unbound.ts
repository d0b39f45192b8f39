import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeridianError } from '../../errors.js';
import { DnsClient } from '../dns-client.js';
import { freePort } from '../ports.js';
import type { ResolverOptions, RunningResolver } from './types.js';
import { unboundConf } from './unbound-conf.js';

const PLACES = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/sbin'];

/** Path of the unbound binary, or null when it is not installed. */
export function findUnbound(): string | null {
  for (const dir of PLACES) {
    try {
      accessSync(join(dir, 'unbound'), constants.X_OK);
      return join(dir, 'unbound');
    } catch {
      // not here
    }
  }
  return null;
}

/** "1.17.1", from `unbound -V`. */
export function unboundVersion(path: string): string {
  const out = spawnSync(path, ['-V'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return /^Version\s+(\S+)/m.exec(out)?.[1] ?? 'unknown';
}

/** Asks Unbound for localhost (a zone it answers itself) until it does. */
async function untilAnswering(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const client = new DnsClient({ address: '127.0.0.1', port });
  const end = Date.now() + timeoutMs;
  try {
    while (Date.now() < end && child.exitCode === null && child.signalCode === null) {
      const answer = await client.query('localhost', undefined, 200).catch(() => null);
      if (answer?.rcode === 'NOERROR') return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  } finally {
    client.close();
  }
}

/** Runs Unbound in the foreground with a generated config; ready once it answers. */
export async function startUnbound(path: string, o: ResolverOptions): Promise<RunningResolver> {
  mkdirSync(o.dir, { recursive: true });
  mkdirSync(o.logDir, { recursive: true });
  const version = unboundVersion(path);
  const file = join(o.dir, 'unbound.conf');
  let lastError = '';
  // The port was free a moment ago; another process may take it first (TCP and UDP both).
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(file, unboundConf({ ...o, port }));
    const out = createWriteStream(join(o.logDir, 'unbound.out'), { flags: 'a' });
    const child = spawn(path, ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => {
      out.write(b);
      tail = (tail + b.toString()).slice(-2000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await untilAnswering(port, child, 20_000)) {
      // A lab that leaves through process.exit (Ctrl-C) takes its Unbound along.
      const orphanGuard = () => child.kill('SIGTERM');
      process.once('exit', orphanGuard);
      return {
        kind: 'unbound',
        description: `unbound ${version}`,
        address: '127.0.0.1',
        port,
        pid: child.pid,
        stop: async () => {
          process.off('exit', orphanGuard);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
          out.end();
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    out.end();
    lastError = tail;
  }
  throw new MeridianError('INTERNAL', 'lab: unbound did not start', [
    `config: ${file}`,
    `logs: ${join(o.logDir, 'unbound.log')}`,
    ...lastError.trim().split('\n').slice(-6),
  ]);
}
