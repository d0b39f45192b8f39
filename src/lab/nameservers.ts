import { DnsClient } from './dns-client.js';
import type { NameServer } from './topology.js';

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
