import { cliCommand, LabProcess, type ReadyLine } from './processes.js';

/**
 * A `meridian ...` server of the lab that can die and come back: each start
 * runs a new process with the same arguments (or `restartArgs`), so on the
 * same ports.
 */
export class CliPart {
  process: LabProcess | null = null;

  constructor(
    readonly name: string,
    /** Region the process runs in ('' for the SQLite control, which runs in none). */
    readonly site: string,
    private args: readonly string[],
    private readonly logDir: string,
    private readonly secretEnv: Readonly<Record<string, string>> = {},
    /** Arguments of a restart, when they differ (an origin copies its data from a peer first). */
    private restartArgs?: readonly string[],
    /** What runs the arguments: the meridian CLI unless told otherwise. */
    private readonly entry: () => { command: string; args: string[] } = cliCommand,
  ) {}

  /** New arguments for the next start and restart (an origin deployed on another version). */
  setArgs(args: readonly string[], restartArgs?: readonly string[]): void {
    this.args = args;
    this.restartArgs = restartArgs;
  }

  start(): Promise<ReadyLine> {
    this.process = new LabProcess(this.name, [...this.args], this.logDir, this.secretEnv, this.entry);
    return this.process.start();
  }

  restart(): Promise<ReadyLine> {
    this.process = new LabProcess(
      this.name,
      [...(this.restartArgs ?? this.args)],
      this.logDir,
      this.secretEnv,
      this.entry,
    );
    return this.process.start();
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  async kill(): Promise<void> {
    await this.process?.kill();
  }

  async stop(): Promise<number | null> {
    return (await this.process?.stop()) ?? null;
  }
}
