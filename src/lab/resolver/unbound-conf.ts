import { join } from 'node:path';
import type { Nameserver } from './types.js';

/**
 * unbound.conf for the lab: one stub zone over the regions' name servers on
 * loopback, ECS passed through and cached per /24, TTLs honoured, a dead name
 * server avoided within a query and probed again soon. Ordering stays
 * Unbound's default (rrset-roundrobin: yes rotates every answer, see README).
 */
export function unboundConf(o: {
  zone: string;
  nameservers: readonly Nameserver[];
  dir: string;
  logDir: string;
  port: number;
}): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    'server:',
    `  directory: ${q(o.dir)}`,
    '  chroot: ""',
    '  username: ""',
    `  pidfile: ${q(join(o.dir, 'unbound.pid'))}`,
    `  logfile: ${q(join(o.logDir, 'unbound.log'))}`,
    '  use-syslog: no',
    '  log-time-ascii: yes',
    '  verbosity: 1',
    '  interface: 127.0.0.1',
    `  port: ${o.port}`,
    '  do-ip6: no',
    '  num-threads: 1',
    // The name servers listen on 127.0.0.1, which Unbound refuses to ask by default.
    '  do-not-query-localhost: no',
    // No validator: the lab zone is unsigned and has no trust anchor.
    '  module-config: "subnetcache iterator"',
    // ECS: the client's /24 goes to the name servers (all on 127.0.0.1) and answers are cached per subnet.
    '  send-client-subnet: 127.0.0.1',
    '  client-subnet-always-forward: yes',
    '  max-client-subnet-ipv4: 24',
    '  max-client-subnet-ipv6: 56',
    // Per name, a subnet cache of at most this many networks (default 100, fewer than the lab's users' /24s).
    '  max-ecs-tree-size-ipv4: 4096',
    '  max-ecs-tree-size-ipv6: 1024',
    // One question per query, with ECS (minimised queries would ask NS first).
    '  qname-minimisation: no',
    // TTLs as the zone gives them: nothing served past expiry, nothing refreshed ahead of it.
    '  cache-min-ttl: 0',
    '  serve-expired: no',
    '  prefetch: no',
    // Every virtual user asks from 127.0.0.1: no per-address limit of waiting replies.
    '  wait-limit: 0',
    // A dead name server: its retransmit timeout grows past the band of the live one after one
    // timeout, is capped at 1 s (not 2 min), it keeps being probed, and what was learnt about it
    // is forgotten after a minute, so a restarted one is used again.
    '  infra-cache-max-rtt: 1000',
    '  infra-keep-probing: yes',
    '  infra-host-ttl: 60',
    'stub-zone:',
    `  name: ${q(o.zone)}`,
    ...o.nameservers.map((ns) => `  stub-addr: ${ns.address}@${ns.port}`),
    'remote-control:',
    '  control-enable: no',
  ];
  return `${lines.join('\n')}\n`;
}
