// What a lab run with network namespaces may leave behind (src/lab/netns.ts), and the skip rule of
// the suites that need namespaces.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { iptablesChain, nftTable, probeNetns } from '../../src/lab/netns.js';
import { findProgram } from '../../src/lab/programs.js';

const CLAIMS = '/run/meridian-netns';

/** Namespaces, nft table, veths, iptables chain and address claims of the lab process `pid`. */
export function netnsLeftovers(pid: number): string[] {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '';
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  const chains = spawnSync('iptables', ['-w', '-S'], { encoding: 'utf8' }).stdout ?? '';
  return [
    ...ns.split('\n').filter((l) => l.startsWith(`mrd-${pid}-`)),
    ...(tables.includes(nftTable(pid)) ? [nftTable(pid)] : []),
    ...links.split('\n').filter((l) => l.includes(`mrd${pid.toString(36)}h`)),
    ...(chains.includes(iptablesChain(pid)) ? [iptablesChain(pid)] : []),
    ...(existsSync(CLAIMS) ? readdirSync(CLAIMS) : [])
      .filter((f) => readFileSync(join(CLAIMS, f), 'utf8') === String(pid))
      .map((f) => `claim of 10.${f}`),
  ];
}

export function skipNetns(t: TestContext, reason: string): false {
  process.stdout.write(`# skipping: ${reason}\n`);
  t.skip(reason);
  return false;
}

/**
 * Skips (reason printed) without root or `ip`; with both, a probe that fails is a skip too, except
 * under CI=true where it fails: CI runs as root with iproute2 and nftables installed.
 */
export function requireNetns(t: TestContext): boolean {
  if (process.getuid?.() !== 0) return skipNetns(t, 'not running as root: network namespaces need it');
  if (!findProgram('ip')) return skipNetns(t, '`ip` (iproute2) is not installed');
  const probe = probeNetns();
  if (probe.ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true, root and ip present, but: ${probe.reason}`);
  return skipNetns(t, probe.reason);
}

/** Namespaces can be made here (root, ip, a probe that works); no skip, no throw. */
export const netnsAvailable = (): boolean =>
  process.getuid?.() === 0 && !!findProgram('ip') && probeNetns().ok;
