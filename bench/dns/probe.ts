// One A query over UDP, to see that a server is up and what it answers.
import { createSocket } from 'node:dgram';
import packet from 'dns-packet';

export function queryA(port: number, name: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (v: string | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('error', () => done(null));
    socket.on('message', (msg) => {
      try {
        const a = packet.decode(msg).answers?.find((r) => r.type === 'A');
        done(a && 'data' in a ? String(a.data) : null);
      } catch {
        done(null);
      }
    });
    socket.send(packet.encode({ id: 7, type: 'query', questions: [{ name, type: 'A' }] }), port, '127.0.0.1');
  });
}
