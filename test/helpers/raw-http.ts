// Raw HTTP over plain TCP or TLS: bytes in, everything the server wrote back
// out, and whether the server closed the connection. For hostile-input tests,
// where a real HTTP client would refuse to send what we need to send.
import { spawnSync } from 'node:child_process';
import { connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { findProgram } from './programs.js';

export interface RawTarget {
  port: number;
  tls?: boolean;
}

export interface RawReply {
  /** Everything the server wrote, latin1. */
  data: string;
  /** The server ended or reset the connection (not our own give-up timer). */
  closed: boolean;
}

export function rawConnect(target: RawTarget): Socket {
  return target.tls
    ? tlsConnect({ port: target.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' })
    : connect(target.port, '127.0.0.1');
}

/**
 * Sends `bytes` (a list is written piece by piece, `gapMs` apart) and resolves
 * when the server closes or `quietMs` pass without it doing so.
 */
export function rawExchange(
  target: RawTarget,
  bytes: string | Buffer | (string | Buffer)[],
  { quietMs = 1500, gapMs = 0 } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = rawConnect(target);
    let data = '';
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => done(false), quietMs);
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
    });
    socket.on('end', () => done(true));
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
    const pieces = Array.isArray(bytes) ? bytes : [bytes];
    const writeFrom = (i: number) => {
      if (settled || i >= pieces.length) return;
      const p = pieces[i];
      socket.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      if (gapMs > 0) setTimeout(() => writeFrom(i + 1), gapMs);
      else writeFrom(i + 1);
    };
    socket.once(target.tls ? 'secureConnect' : 'connect', () => writeFrom(0));
  });
}

export const rawStatus = (response: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);

/** Counts the bytes an origin receives, the edge's health checks left out. */
export function countRequestBytes(server: Server): { bytes: () => number } {
  let bytes = 0;
  server.on('connection', (socket: Socket) => {
    // Health checks share keep-alive connections with proxied requests (one pool per origin),
    // one request at a time: a read that starts a health check is that check's whole head.
    socket.on('data', (c: Buffer) => {
      if (c.subarray(0, 12).toString('latin1') !== 'GET /health ') bytes += c.length;
    });
  });
  return { bytes: () => bytes };
}

/**
 * A self-signed certificate for 127.0.0.1 written to `dir`; null (with the
 * reason printed) when openssl is missing, an error under CI=true.
 */
export function selfSignedCert(dir: string): { cert: string; key: string } | null {
  const openssl = findProgram('openssl');
  if (!openssl) {
    const reason = 'openssl is not installed (apt-get install openssl)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
    process.stdout.write(`# skipping TLS cases: ${reason}\n`);
    return null;
  }
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const r = spawnSync(openssl, [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
  ]);
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}
