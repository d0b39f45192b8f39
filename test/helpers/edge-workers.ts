// `meridian edge --workers 2` started from the source as a user runs it, up to
// its ready line: the child, its ready line, what it wrote on stderr, and a
// promise of its exit code.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface EdgeWorkers {
  child: ChildProcess;
  ready: { ready: boolean; part: string; region: string; workers: number; listen: string; admin: string };
  stderr: () => string;
  exited: Promise<number | null>;
}

export async function startEdgeWorkers(
  configFile: string,
  env: Record<string, string> = {},
): Promise<EdgeWorkers> {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'edge', '--config', configFile, '--region', 'us-east-1'],
      ...['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '2'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn', ...env } },
  );
  let stderr = '';
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', () => reject(new Error(`edge exited before ready: ${stderr}`)));
  });
  return { child, ready: JSON.parse(line), stderr: () => stderr, exited };
}
