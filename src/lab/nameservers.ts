import { DnsClient } from './dns-client.js';
import type { NameServer } from './topology.js';

/**
 * A stub resolver configured with every name server (as resolv.conf lists
 * several): asks the one it uses, and moves on to the next for good when a
 * query times out, so a dead region's name server costs one timeout, not one
 * per query. Stands in for the caching resolver until that one runs.
 */
export class StubResolver extends DnsClient {
  private readonly others: DnsClient[];
  private current = 0;

  constructor(servers: readonly { address: string; port: number }[]) {
    super(servers[0]);
    this.others = servers.slice(1).map((s) => new DnsClient(s));
  }

  override query(name: string, clientSubnet?: string, timeoutMs = 1000) {
    const i = this.current;
    const asked =
      i === 0
        ? super.query(name, clientSubnet, timeoutMs)
        : this.others[i - 1].query(name, clientSubnet, timeoutMs);
    return asked.catch((e: unknown) => {
      if (this.current === i) this.current = (i + 1) % (this.others.length + 1);
      throw e;
    });
  }

  override close(): void {
    super.close();
    for (const c of this.others) c.close();
  }
}

/** One client per name server, and those of regions that are up (the probe asks the surviving ones). */
export class NameServerClients {
  private readonly clients: { region: string; client: DnsClient }[];

  constructor(
    nameservers: readonly NameServer[],
    private readonly alive: (region: string) => boolean,
  ) {
    this.clients = nameservers.map((n) => ({ region: n.region, client: new DnsClient(n) }));
  }

  live(): DnsClient[] {
    return this.clients.filter((c) => this.alive(c.region)).map((c) => c.client);
  }

  close(): void {
    for (const c of this.clients) c.client.close();
  }
}
