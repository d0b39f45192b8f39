// The life cycle the lab's outside servers share (etcd, NATS, Redis): spawn
// with one log stream per life, SIGKILL when the region dies, SIGTERM to stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Servers still running, SIGKILLed when the lab's process exits (one listener for all of them). */
const alive = new Set<ChildProcess>();
let exitHooked = false;
function killWithLab(child: ChildProcess): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const c of alive) c.kill('SIGKILL');
    });
  }
  alive.add(child);
  child.once('exit', () => alive.delete(child));
}

export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  /** logFile: where the server's stdout and stderr go, appended across lives. */
  constructor(private readonly logFile: string) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The running server's process id (undefined when it is not running). */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  start(program: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
    mkdirSync(dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout!.on('data', (c: Buffer) => log.write(c));
    child.stderr!.on('data', (c: Buffer) => log.write(c));
    // One stream per life, closed when it ends: kong kills and restarts servers every cycle.
    child.once('close', () => log.end());
    // A lab that dies must not leave servers behind.
    killWithLab(child);
  }

  /** SIGKILL: the server dies with its region. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }
}
