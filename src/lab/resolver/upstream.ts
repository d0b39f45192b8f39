import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Nameserver } from './types.js';

export type Exchange =
  | { ok: true; packet: dnsPacket.Packet }
  | { ok: false; why: 'timeout' | 'refused' | 'closed' };

/**
 * One authoritative name server, asked over a connected UDP socket: a server
 * that is down on this host (its port closed) answers with ICMP port
 * unreachable, which a connected socket reports at once as ECONNREFUSED,
 * as Unbound (udp-connect: yes) sees it; one that is silent times out.
 */
export class Upstream {
  private readonly socket: Socket;
  private readonly pending = new Map<number, (r: Exchange) => void>();
  private connected: Promise<void>;
  /** Until when it counts as dead (Unbound's infra cache): tried only when no other is alive. */
  deadUntil = 0;

  constructor(readonly ns: Nameserver) {
    this.socket = createSocket('udp4');
    this.socket.unref();
    this.socket.on('message', (msg) => this.receive(msg));
    // ECONNREFUSED: the server's port is closed; every query in flight to it is lost.
    this.socket.on('error', () => this.failAll('refused'));
    this.connected = new Promise((resolve) => this.socket.connect(ns.port, ns.address, () => resolve()));
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
    done({ ok: true, packet });
  }

  private failAll(why: 'refused' | 'closed') {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const done of all) done({ ok: false, why });
  }

  async ask(query: dnsPacket.Packet, timeoutMs: number): Promise<Exchange> {
    await this.connected;
    let id = 0;
    do id = 1 + Math.floor(Math.random() * 65535);
    while (this.pending.has(id));
    const wire = dnsPacket.encode({ ...query, id });
    return new Promise<Exchange>((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) resolve({ ok: false, why: 'timeout' });
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.socket.send(wire, (err) => {
        if (err && this.pending.delete(id)) {
          clearTimeout(timer);
          resolve({ ok: false, why: 'refused' });
        }
      });
    });
  }

  close(): void {
    this.failAll('closed');
    this.socket.close();
  }
}
