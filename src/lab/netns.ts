// Network namespaces for the lab's sites, so split-brain cuts with a real packet filter.
// Every lab server still listens on the root namespace's loopback; what crosses namespaces is
// the links: a link's near end (the links process) hands its traffic to a relay inside the
// source site's namespace, which connects across the veths to a relay inside the destination
// site's namespace, which delivers it back to the target through that site's gateway address.
// The hop between the two namespaces is routed by the root namespace, so its forward chain
// (nftables, or iptables when nft is missing) can drop it: a cut stops real TCP.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkSpec } from '../chaos/link-host.js';
import { MeridianError } from '../errors.js';
import { cliCommand } from './processes.js';
import { findProgram } from './programs.js';

export type LinkCutMode = 'packet-filter' | 'proxy';
export type LinkCutChoice = LinkCutMode | 'auto';
export type PacketFilter = 'nft' | 'iptables';

/** A site's place in the lab network: its namespace and the two ends of its veth. */
export interface NetnsSite {
  site: string;
  namespace: string;
  /** The root namespace's end of the veth: the site's gateway, where relays deliver to targets. */
  gateway: string;
  /** The namespace's end: where the site's relays listen and connect from. */
  address: string;
  subnet: string;
  hostVeth: string;
  nsVeth: string;
}

/** One TCP relay: listen inside a namespace, connect to target. */
export interface RelayRoute {
  link: string;
  listen: { host: string; port: number };
  target: { host: string; port: number };
}

const PREFIX = 'mrd';

export const namespaceName = (pid: number, site: string) => `${PREFIX}-${pid}-${site}`;

/** Interface names hold 15 characters: the pid in base 36 (at most 5) and the site's index. */
export function vethNames(pid: number, index: number) {
  const id = pid.toString(36);
  return { host: `${PREFIX}${id}h${index}`, ns: `${PREFIX}${id}n${index}` };
}

export function siteAddresses(base: number, index: number) {
  return {
    gateway: `10.${base}.${index}.1`,
    address: `10.${base}.${index}.2`,
    subnet: `10.${base}.${index}.0/24`,
  };
}

/** The lab pid that owns a namespace, table or chain name this module made, or null. */
export function ownerPid(name: string): number | null {
  const m = /^(?:mrd[-_]|MRD-)(\d+)(?:-|$)/.exec(name);
  return m ? Number(m[1]) : null;
}

export const nftTable = (pid: number) => `${PREFIX}_${pid}`;
export const iptablesChain = (pid: number) => `MRD-${pid}`;

const pairKey = (a: string, b: string) => [a, b].sort().join('|');

/**
 * The cut pairs after a change: cutting (or healing) `site` touches every pair it is in; with no
 * site, every pair. Pairs are unordered: a cut drops both directions.
 */
export function nextCutPairs(
  current: ReadonlySet<string>,
  sites: readonly string[],
  cut: boolean,
  site?: string,
): Set<string> {
  const next = new Set(current);
  for (const a of sites)
    for (const b of sites) {
      if (a >= b || (site && a !== site && b !== site)) continue;
      if (cut) next.add(pairKey(a, b));
      else next.delete(pairKey(a, b));
    }
  return next;
}

type CutKind = 'blackhole' | 'reset';

function pairSubnets(pairs: ReadonlySet<string>, subnets: ReadonlyMap<string, string>): [string, string][] {
  const out: [string, string][] = [];
  for (const p of [...pairs].sort()) {
    const [a, b] = p.split('|').map((s) => subnets.get(s)!);
    out.push([a, b], [b, a]);
  }
  return out;
}

/** The whole nft table: a forward chain dropping (or resetting) traffic between cut pairs' subnets. */
export function nftScript(
  table: string,
  pairs: ReadonlySet<string>,
  subnets: ReadonlyMap<string, string>,
  kind: CutKind,
): string {
  const verdict = kind === 'reset' ? 'reject with tcp reset' : 'drop';
  const rules = pairSubnets(pairs, subnets).flatMap(([from, to]) =>
    kind === 'reset'
      ? [
          `    ip saddr ${from} ip daddr ${to} meta l4proto tcp counter ${verdict}`,
          `    ip saddr ${from} ip daddr ${to} counter drop`,
        ]
      : [`    ip saddr ${from} ip daddr ${to} counter ${verdict}`],
  );
  // Declaring the table first makes the delete valid when it does not exist yet: one atomic file.
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Packets the rules dropped or reset: the sum of `nft list table`'s counters or `iptables -nvxL`'s first column. */
export function countedPackets(filter: PacketFilter, listing: string): number {
  const re = filter === 'nft' ? /counter packets (\d+)/g : /^\s*(\d+)\s+\d+\s+(?:DROP|REJECT)\b/gm;
  return [...listing.matchAll(re)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** iptables arguments that replace the chain's rules with the cut pairs' (the chain exists, FORWARD jumps to it). */
export function iptablesRules(
  chain: string,
  pairs: ReadonlySet<string>,
  subnets: ReadonlyMap<string, string>,
  kind: CutKind,
): string[][] {
  const rules: string[][] = [['-F', chain]];
  for (const [from, to] of pairSubnets(pairs, subnets)) {
    if (kind === 'reset')
      rules.push([
        '-A',
        chain,
        '-s',
        from,
        '-d',
        to,
        '-p',
        'tcp',
        '-j',
        'REJECT',
        '--reject-with',
        'tcp-reset',
      ]);
    rules.push(['-A', chain, '-s', from, '-d', to, '-j', 'DROP']);
  }
  return rules;
}

/**
 * The relays a link needs (not the links every site shares, `from: '*'`, which stay proxies):
 * in the source namespace, from the link's own port to the destination namespace; there, to the
 * destination's gateway, where the links process delivers to the target.
 */
export function relayRoutes(
  links: readonly LinkSpec[],
  ports: Readonly<Record<string, number>>,
  sites: ReadonlyMap<string, NetnsSite>,
): Map<string, RelayRoute[]> {
  const routes = new Map<string, RelayRoute[]>([...sites.keys()].map((s) => [s, []]));
  for (const l of links) {
    const from = sites.get(l.from);
    const to = sites.get(l.to);
    const port = ports[l.name];
    if (!from || !to || port === undefined) continue;
    routes.get(l.from)!.push({
      link: l.name,
      listen: { host: from.address, port },
      target: { host: to.address, port },
    });
    routes
      .get(l.to)!
      .push({ link: l.name, listen: { host: to.address, port }, target: { host: to.gateway, port } });
  }
  return routes;
}

function run(args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(args[0], args.slice(1), { input, encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(args: string[], input?: string): string {
  const r = run(args, input);
  if (!r.ok) throw new MeridianError('INTERNAL', `lab netns: \`${args.join(' ')}\` failed: ${r.out}`);
  return r.out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type NetnsProbe = { ok: true; filter: PacketFilter } | { ok: false; reason: string };

let probed: NetnsProbe | undefined;

/** Root, `ip netns` works, and nft (or iptables) answers: probed once per process. */
export function probeNetns(): NetnsProbe {
  probed ??= probe();
  return probed;
}

function probe(): NetnsProbe {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' };
  if (!findProgram('ip')) return { ok: false, reason: '`ip` (iproute2) is not installed' };
  const filter: PacketFilter | null =
    findProgram('nft') && run(['nft', 'list', 'tables']).ok
      ? 'nft'
      : findProgram('iptables') && run(['iptables', '-w', '-L', 'FORWARD', '-n']).ok
        ? 'iptables'
        : null;
  if (!filter) return { ok: false, reason: 'neither nft nor iptables is installed and working' };
  const name = namespaceName(process.pid, 'probe');
  const added = run(['ip', 'netns', 'add', name]);
  run(['ip', 'netns', 'delete', name]);
  if (!added.ok) return { ok: false, reason: `\`ip netns add\` failed: ${added.out}` };
  return { ok: true, filter };
}

/** Removes namespaces, nft tables and iptables chains left by lab processes that died. */
export function removeStale(filter: PacketFilter): string[] {
  const removed: string[] = [];
  const stale = (name: string) => {
    const pid = ownerPid(name);
    return pid !== null && pid !== process.pid && !alive(pid);
  };
  for (const line of run(['ip', 'netns', 'list']).out.split('\n')) {
    const name = line.split(' ')[0];
    if (name && stale(name) && run(['ip', 'netns', 'delete', name]).ok) removed.push(name);
  }
  if (filter === 'nft')
    for (const m of run(['nft', 'list', 'tables']).out.matchAll(/^table inet (\S+)$/gm))
      if (stale(m[1]) && run(['nft', 'delete', 'table', 'inet', m[1]]).ok) removed.push(m[1]);
  if (filter === 'iptables')
    for (const m of run(['iptables', '-w', '-S']).out.matchAll(/^-N (MRD-\d+)$/gm))
      if (stale(m[1])) {
        run(['iptables', '-w', '-D', 'FORWARD', '-j', m[1]]);
        run(['iptables', '-w', '-F', m[1]]);
        if (run(['iptables', '-w', '-X', m[1]]).ok) removed.push(m[1]);
      }
  return removed;
}

const CLAIMS = '/run/meridian-netns';

/**
 * A free 10.X.0.0/16 for this lab: X from 200 to 254, on no interface and claimed by an exclusive
 * file CLAIMS/X holding the pid (labs starting at once must not pick the same X); a claim whose
 * pid is gone is taken over.
 */
function claimBase(pid: number): number {
  mkdirSync(CLAIMS, { recursive: true });
  const used = new Set(
    [...run(['ip', '-o', '-4', 'addr', 'show']).out.matchAll(/inet 10\.(\d+)\./g)].map((m) => Number(m[1])),
  );
  for (let k = 0; k < 55; k++) {
    const base = 200 + ((pid + k) % 55);
    if (used.has(base)) continue;
    const file = join(CLAIMS, String(base));
    try {
      writeFileSync(file, String(pid), { flag: 'wx' });
      return base;
    } catch {
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner > 0 && alive(owner)) continue;
      rmSync(file, { force: true });
      try {
        writeFileSync(file, String(pid), { flag: 'wx' });
        return base;
      } catch {}
    }
  }
  throw new MeridianError('INTERNAL', 'lab netns: no free 10.X.0.0/16 between 10.200 and 10.254');
}

function releaseBase(base: number, pid: number) {
  const file = join(CLAIMS, String(base));
  try {
    if (Number(readFileSync(file, 'utf8')) === pid) rmSync(file, { force: true });
  } catch {}
}

/** The lab's namespaces, one per site, and the packet filter between them. */
export class LabNetwork {
  readonly sites = new Map<string, NetnsSite>();
  private pairs = new Set<string>();
  private kind: CutKind = 'blackhole';
  private closed = false;
  private base: number | null = null;
  /** Packets dropped by rules already removed (a heal rebuilds the rules, and their counters). */
  private droppedBefore = 0;
  private readonly onExit = () => this.close();

  private constructor(
    readonly filter: PacketFilter,
    readonly pid: number,
  ) {}

  /** Creates a namespace per site (at most 250); on failure removes what it made and throws. */
  static create(siteNames: readonly string[], filter: PacketFilter, pid = process.pid): LabNetwork {
    removeStale(filter);
    const net = new LabNetwork(filter, pid);
    process.once('exit', net.onExit);
    try {
      net.base = claimBase(pid);
      for (const [i, site] of siteNames.entries()) net.addSite(site, i + 1, net.base);
      must(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      net.applyFilter();
    } catch (e) {
      net.close();
      throw e;
    }
    return net;
  }

  private addSite(site: string, index: number, base: number) {
    const namespace = namespaceName(this.pid, site);
    const veth = vethNames(this.pid, index);
    const s: NetnsSite = {
      site,
      namespace,
      ...siteAddresses(base, index),
      hostVeth: veth.host,
      nsVeth: veth.ns,
    };
    must(['ip', 'netns', 'add', namespace]);
    this.sites.set(site, s);
    must(['ip', 'link', 'add', s.hostVeth, 'type', 'veth', 'peer', 'name', s.nsVeth]);
    must(['ip', 'link', 'set', s.nsVeth, 'netns', namespace]);
    must(['ip', 'addr', 'add', `${s.gateway}/24`, 'dev', s.hostVeth]);
    must(['ip', 'link', 'set', s.hostVeth, 'up']);
    must(['ip', '-n', namespace, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', namespace, 'addr', 'add', `${s.address}/24`, 'dev', s.nsVeth]);
    must(['ip', '-n', namespace, 'link', 'set', s.nsVeth, 'up']);
    must(['ip', '-n', namespace, 'route', 'add', 'default', 'via', s.gateway]);
  }

  /** The command prefix that runs a program inside a site's namespace. */
  exec(site: string): string[] {
    const s = this.sites.get(site);
    if (!s) throw new MeridianError('INTERNAL', `lab netns: no namespace for ${site}`);
    return ['ip', 'netns', 'exec', s.namespace];
  }

  /** How LabProcess runs a relay (src/chaos/relay-main) inside a site's namespace: the CLI's build, its own entry. */
  relayEntry(site: string): () => { command: string; args: string[] } {
    return () => {
      const { command, args } = cliCommand();
      const entry = args.at(-1)!.replace(/cli[/\\]main\.(js|ts)$/, (_, ext) => `chaos/relay-main.${ext}`);
      return { command: 'ip', args: [...this.exec(site).slice(1), command, ...args.slice(0, -1), entry] };
    };
  }

  /** Cuts (drop, or TCP reset for `reset`) or heals the traffic between sites: all, or every pair touching `site`. */
  cut(mode: CutKind | false, site?: string): void {
    if (mode) this.kind = mode;
    this.pairs = nextCutPairs(this.pairs, [...this.sites.keys()], mode !== false, site);
    this.applyFilter();
  }

  get cutPairs(): string[] {
    return [...this.pairs].sort();
  }

  /** Packets the filter dropped (or reset) between sites since it was made: proof that a cut cut. */
  get droppedPackets(): number {
    return this.droppedBefore + this.countNow();
  }

  private countNow(): number {
    const listing =
      this.filter === 'nft'
        ? run(['nft', 'list', 'table', 'inet', nftTable(this.pid)]).out
        : run(['iptables', '-w', '-nvxL', iptablesChain(this.pid)]).out;
    return countedPackets(this.filter, listing);
  }

  private applyFilter() {
    this.droppedBefore += this.countNow();
    const subnets = new Map([...this.sites].map(([k, s]) => [k, s.subnet]));
    if (this.filter === 'nft') {
      must(['nft', '-f', '-'], nftScript(nftTable(this.pid), this.pairs, subnets, this.kind));
      return;
    }
    const chain = iptablesChain(this.pid);
    if (!run(['iptables', '-w', '-S', chain]).ok) {
      must(['iptables', '-w', '-N', chain]);
      must(['iptables', '-w', '-I', 'FORWARD', '-j', chain]);
    }
    for (const args of iptablesRules(chain, this.pairs, subnets, this.kind))
      must(['iptables', '-w', ...args]);
  }

  /** Removes the filter, the veths and the namespaces (synchronous: also runs at process exit). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('exit', this.onExit);
    if (this.filter === 'nft') run(['nft', 'delete', 'table', 'inet', nftTable(this.pid)]);
    else {
      const chain = iptablesChain(this.pid);
      run(['iptables', '-w', '-D', 'FORWARD', '-j', chain]);
      run(['iptables', '-w', '-F', chain]);
      run(['iptables', '-w', '-X', chain]);
    }
    for (const s of this.sites.values()) {
      run(['ip', 'link', 'delete', s.hostVeth]);
      run(['ip', 'netns', 'delete', s.namespace]);
    }
    if (this.base !== null) releaseBase(this.base, this.pid);
  }
}
