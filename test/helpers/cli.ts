import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source, as a user would run `meridian ...`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI from source, for longer than runCli's minute; stopped by SIGINT (the lab then stops its servers). */
export function runLong(args: string[], timeoutMs: number): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGINT',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The summary a `meridian lab --json` run printed, and its verdict's failures: with no verdict (the
 * lab stopped with an error, printed as JSON on stdout) the failure is that error and the last
 * progress lines. Throws when stdout holds no JSON at all.
 */
// biome-ignore lint/suspicious/noExplicitAny: callers check the summary field by field
export function labVerdict(r: CliResult): { summary: Record<string, any>; failures: string[] } {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  let summary: Record<string, any>;
  try {
    summary = JSON.parse(r.stdout);
  } catch {
    throw new Error(`no JSON summary (exit ${r.status}):\n${r.stdout.slice(-500)}\n${r.stderr.slice(-2000)}`);
  }
  const failures: string[] = summary.verdict?.failures ?? [
    `no verdict (exit ${r.status}): ${r.stdout.slice(0, 1500)}\n${r.stderr.slice(-1500)}`,
  ];
  return { summary, failures };
}

export interface Proc {
  child: ChildProcess;
  ready: Record<string, unknown>;
}

/** Starts `meridian ARGS` from source (stderr to LOGDIR/NAME.log) and waits for its ready line. */
export function startMeridian(
  name: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stderr!.pipe(createWriteStream(join(logDir, `${name}.log`), { flags: 'a' }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no ready line in 180 s`)), 180_000);
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}) before ready; see ${logDir}/${name}.log`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const ready = JSON.parse(line);
        if (ready.ready) {
          clearTimeout(timer);
          resolve({ child, ready });
        }
      } catch {}
    });
  });
}
