import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface DnsAnswer {
  addresses: string[];
  ttl: number;
  rcode: string;
}

/**
 * A minimal stub resolver for the virtual users: A queries over UDP with the
 * user's subnet in EDNS Client Subnet, as a recursive resolver would send it.
 * One socket, many queries in flight, matched by id.
 */
export class DnsClient {
  private readonly socket: Socket;
  private readonly pending = new Map<number, (answer: DnsAnswer | Error) => void>();
  private nextId = 1;

  constructor(private readonly server: { address: string; port: number }) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg) => this.receive(msg));
    this.socket.on('error', () => {});
    this.socket.unref();
  }

  private receive(msg: Buffer) {
    let packet: dnsPacket.Packet;
    try {
      packet = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const done = this.pending.get(packet.id ?? -1);
    if (!done) return;
    this.pending.delete(packet.id!);
    const a = (packet.answers ?? []).filter((r) => r.type === 'A') as dnsPacket.StringAnswer[];
    const rcode = (packet as { rcode?: string }).rcode ?? 'NOERROR';
    done({ addresses: a.map((r) => r.data), ttl: Math.min(...a.map((r) => r.ttl ?? 0), 3600), rcode });
  }

  query(name: string, clientSubnet?: string, timeoutMs = 1000): Promise<DnsAnswer> {
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    const ecs = clientSubnet?.split('/');
    const packet = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          options: ecs
            ? [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: Number(ecs[1] ?? 24), ip: ecs[0] }]
            : [],
        } as unknown as dnsPacket.Answer,
      ],
    });
    return new Promise((resolve, reject) => {
      // After a stall, timers run before pending socket reads: give an answer
      // already waiting in the socket one turn of the loop before giving up.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (!this.pending.delete(id)) return;
            reject(new Error(`DNS query for ${name} timed out after ${timeoutMs} ms`));
          }),
        timeoutMs,
      );
      timer.unref();
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        if (answer instanceof Error) reject(answer);
        else resolve(answer);
      });
      this.socket.send(packet, this.server.port, this.server.address);
    });
  }

  close(): void {
    for (const done of this.pending.values()) done(new Error('DNS client closed'));
    this.pending.clear();
    this.socket.close();
  }
}
