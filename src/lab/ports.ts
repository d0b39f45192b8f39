import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
/** Every port this process handed out: never twice, even once its process has stopped. */
const handedOut = new Set<number>();

/** The first port of the range the kernel hands to outgoing connections and port-0 listeners. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > LOWEST + 1000) return low;
  } catch {
    // not Linux: the IANA ephemeral range starts here
  }
  return 49_152;
}

/** Listens on the port and closes again: the port, or null when it is taken. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, for a process that
 * binds it later. It comes from below the kernel's ephemeral range: a port
 * from that range can be taken by any outgoing connection or port-0 listener
 * before its process binds it (or while it is down, as a killed origin is),
 * which a busy lab lost with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let i = 0; i < 64; i++) {
    const candidate = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    // Handed out already, to a process that may not have bound it yet: with forty ports a run drawn
    // at random from 22,000, two would be the same in about one scenario in thirty (CI saw it).
    if (handedOut.has(candidate)) continue;
    handedOut.add(candidate); // before probing: a concurrent call must not probe it too
    const port = await probe(candidate);
    if (port !== null) return port;
  }
  const any = await probe(0);
  if (any === null) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}
