import { decide } from '../core/decide.js';
import { cidrContains, parseIp } from '../core/ip.js';
import type { Client, Decision, Snapshot } from '../core/model.js';
import { clientAddress, type GeoLocator, type TrustedProxies } from '../geo/index.js';
import type { ClientExchange } from './exchange/client-exchange.js';

const MAX_ENTRIES = 50_000;

interface SocketInfo {
  peer: string;
  trusted: boolean;
  version: number;
  decision: Decision | null;
}

const kInfo = Symbol('meridian.connection');

/**
 * Where a request's client is and what decide() says for it. Decisions are
 * cached per client network and snapshot version; a keep-alive connection
 * without X-Forwarded-For keeps its decision on the connection, so the hot path
 * does no lookup at all.
 */
export class ClientLocator {
  private readonly clients = new Map<string, Client>();
  private readonly decisions = new Map<string, { version: number; decision: Decision }>();

  constructor(
    private readonly geo: GeoLocator,
    private readonly trust: TrustedProxies,
  ) {}

  /** Kept on the client's connection (see ClientExchange.connection), worked out at its first request. */
  connectionInfo(x: Pick<ClientExchange, 'connection' | 'remoteAddress'>): SocketInfo {
    const s = x.connection as { [kInfo]?: SocketInfo };
    let info = s[kInfo];
    if (info === undefined) {
      const peer = clientAddress(x.remoteAddress, undefined, this.trust);
      const ip = parseIp(peer);
      const trusted = ip !== null && this.trust.ranges.some((r) => cidrContains(r, ip));
      info = { peer, trusted, version: -1, decision: null };
      s[kInfo] = info;
    }
    return info;
  }

  /** The client's address: the connection's peer, or X-Forwarded-For when the peer is trusted. */
  clientIp(info: SocketInfo, forwardedFor: string | undefined): string {
    if (!info.trusted || forwardedFor === undefined) return info.peer;
    return clientAddress(info.peer, forwardedFor, this.trust);
  }

  decisionFor(info: SocketInfo, ip: string, snapshot: Snapshot): Decision {
    if (ip === info.peer) {
      if (info.version !== snapshot.version || info.decision === null) {
        info.decision = this.decide(ip, snapshot);
        info.version = snapshot.version;
      }
      return info.decision;
    }
    return this.decide(ip, snapshot);
  }

  private decide(ip: string, snapshot: Snapshot): Decision {
    let client = this.clients.get(ip);
    if (client === undefined) {
      client = this.geo.client(ip);
      if (this.clients.size >= MAX_ENTRIES) this.clients.clear();
      this.clients.set(ip, client);
    }
    const hit = this.decisions.get(client.subnet);
    if (hit !== undefined && hit.version === snapshot.version) return hit.decision;
    const decision = decide(client, snapshot);
    if (this.decisions.size >= MAX_ENTRIES) this.decisions.clear();
    this.decisions.set(client.subnet, { version: snapshot.version, decision });
    return decision;
  }
}
