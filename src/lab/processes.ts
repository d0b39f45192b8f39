import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MeridianError } from '../errors.js';
import { childEnv } from './secrets.js';

/**
 * How to run `meridian ...` as a child: the built CLI; from the sources, the
 * build in dist/ when it is newer than every source file (a child starts two
 * to three times faster than through tsx, which matters when a drill restarts
 * origins), else the sources through tsx.
 */
export function cliCommand(): { command: string; args: string[] } {
  chosen ??= chooseCli();
  return chosen;
}

/**
 * How to run an origin (`meridian lab-origin`'s flags): the same build as cliCommand, but the
 * origin's own entry (watchlist/main), which through tsx is ready in about a third of the time the
 * whole CLI takes: a deploy restarts a region's origins one after the other.
 */
export function originCommand(): { command: string; args: string[] } {
  const { command, args } = cliCommand();
  const main = args.at(-1)!;
  const entry = main.replace(/cli[/\\]main\.(js|ts)$/, (_, ext) => `lab/watchlist/main.${ext}`);
  return { command, args: [...args.slice(0, -1), entry] };
}

/** Chosen once: a drill restarting origins should not walk the source tree again. */
let chosen: { command: string; args: string[] } | undefined;

function chooseCli(): { command: string; args: string[] } {
  const built = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(built)) return { command: process.execPath, args: [built] };
  const dist = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  const srcDir = fileURLToPath(new URL('..', import.meta.url));
  if (existsSync(dist) && newestMtime(srcDir) < statSync(dist).mtimeMs) {
    return { command: process.execPath, args: [dist] };
  }
  const source = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  return { command: process.execPath, args: ['--import', 'tsx', source] };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

export interface ReadyLine {
  ready: true;
  part: string;
  [key: string]: unknown;
}

/** One server of the lab, run as its own process; ready once it printed its ready line. */
export class LabProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly tail: string[] = [];
  ready: ReadyLine | null = null;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly logDir: string,
    /** Secrets this child needs, by environment variable (see secrets.ts); never in args. */
    private readonly secretEnv: Readonly<Record<string, string>> = {},
    /** What runs `args`: the meridian CLI unless told otherwise (originCommand). */
    private readonly entry: () => { command: string; args: string[] } = cliCommand,
  ) {}

  async start(timeoutMs = 180_000): Promise<ReadyLine> {
    const { command, args } = this.entry();
    mkdirSync(this.logDir, { recursive: true });
    const log = createWriteStream(join(this.logDir, `${this.name.replace(/[^\w.-]/g, '_')}.log`), {
      flags: 'a',
    });
    const child = spawn(command, [...args, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(this.secretEnv),
    });
    this.child = child;
    // Each life writes its own stream, closed once the child's output is drained: a drill that kills
    // and restarts this process would otherwise leave one open descriptor behind per restart.
    child.once('close', () => log.end());
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      this.tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      this.tail.splice(0, Math.max(0, this.tail.length - 12));
    });
    const lines = createInterface({ input: child.stdout! });
    return new Promise<ReadyLine>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new MeridianError('INTERNAL', `lab: ${this.name} ${why}`, this.tail.slice(-8)));
      };
      const timer = setTimeout(() => {
        fail(`printed no ready line within ${timeoutMs} ms`);
        child.kill('SIGKILL');
      }, timeoutMs);
      timer.unref();
      child.once('exit', (code) => fail(`exited (code ${code}) before it was ready`));
      lines.on('line', (line) => {
        log.write(`[stdout] ${line}\n`);
        if (this.ready) return;
        try {
          const parsed = JSON.parse(line) as ReadyLine;
          if (parsed?.ready !== true) return;
          this.ready = parsed;
          clearTimeout(timer);
          resolve(parsed);
        } catch {
          // not the ready line
        }
      });
    });
  }

  /** The running process's id (undefined before start and after it exited). */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: the process dies as a crashed server does, with no goodbye. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL when it does not exit in time. Returns the exit code. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (!this.running) {
      return this.child?.exitCode ?? null;
    }
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    timer.unref();
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
