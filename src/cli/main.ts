#!/usr/bin/env node
import { Command } from 'commander';
import { registerControl } from './control.js';
import { registerDial } from './dial.js';
import { registerDns } from './dns.js';
import { registerDnsProviders } from './dns-providers.js';
import { registerDnsSync } from './dns-sync.js';
import { registerEdge } from './edge.js';
import { registerEvacuate } from './evacuate.js';
import { registerExplain } from './explain.js';
import { registerLab } from './lab.js';
import { registerReplication } from './replication.js';
import { registerRestore } from './restore.js';
import { registerRollout } from './rollout.js';
import { registerStatus } from './status.js';
import { registerValidate } from './validate.js';

export function buildProgram(): Command {
  const program = new Command('meridian')
    .description(
      'Run one service active-active across several regions: geo-DNS, edge, control plane, drills.',
    )
    .version('0.1.0')
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
  return program;
}

await buildProgram().parseAsync(process.argv);
