#!/usr/bin/env node
// Registration only: each command file declares its options with commander and imports its heavy
// modules (servers, clients, the lab) inside its action, so `--version` and `--help` load none of them.
import { Command, type CommanderError } from 'commander';
import { registerCompletion } from './completion.js';
import { registerControl } from './control.js';
import { registerDial } from './dial.js';
import { registerDns } from './dns.js';
import { registerDnsProviders } from './dns-providers.js';
import { registerDnsSync } from './dns-sync.js';
import { registerEdge } from './edge.js';
import { registerEvacuate } from './evacuate.js';
import { registerExplain } from './explain.js';
import { registerLab } from './lab.js';
import { EXIT_USAGE } from './output.js';
import { packageVersion } from './package.js';
import { registerReplication } from './replication.js';
import { registerRestore } from './restore.js';
import { registerRollout } from './rollout.js';
import { registerStatus } from './status.js';
import { registerValidate } from './validate.js';

/** commander's own errors (unknown option or command, missing or invalid argument) are usage errors: exit 2. */
function exitOnUsage(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
}

function everyCommand(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(everyCommand)];
}

export function buildProgram(): Command {
  const program = new Command('meridian')
    .description(
      'Run one service active-active across several regions: geo-DNS, edge, control plane, drills.',
    )
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)');
  registerLab(program);
  registerDns(program);
  registerDnsSync(program); // after registerDns: adds `dns sync` to it
  registerDnsProviders(program);
  registerEdge(program);
  registerControl(program);
  registerReplication(program);
  registerEvacuate(program);
  registerRestore(program);
  registerRollout(program);
  registerStatus(program);
  registerDial(program);
  registerExplain(program);
  registerValidate(program);
  registerCompletion(program);
  for (const cmd of everyCommand(program)) cmd.exitOverride(exitOnUsage);
  return program;
}

await buildProgram().parseAsync(process.argv);
