// Just enough RFC 6455 for tests, on node:http and node:net (Node 20 has no
// stable WebSocket client): an echo origin and a client that can also send
// what a browser never would.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const acceptKey = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A frame as bytes; a client's is masked. */
export function encodeFrame(opcode: number, payload: Buffer, masked: boolean, fin = true): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, body]);
}

/** Reads frames from a byte stream, unmasking as it goes. */
export class FrameReader {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return out;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return out;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return out;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const key = masked ? b.subarray(at, at + 4) : null;
      if (masked) at += 4;
      if (b.length < at + len) return out;
      const payload = Buffer.from(b.subarray(at, at + len));
      if (key) for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
      out.push({ fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload });
      this.buf = b.subarray(at + len);
    }
  }
}

const closeCode = (f: Frame) => (f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005);

/**
 * Makes `server` a WebSocket echo origin: every upgrade with a key is
 * accepted (x-origin: `name`), text and binary frames come back, ping gets
 * pong, close is answered; `/no-upgrade` answers 200 instead, and
 * `/wrong-protocol` switches to a protocol nobody asked for. `seen` (which
 * several origins may share) gets every upgrade request in order of arrival,
 * `closes` the close codes received.
 */
export function acceptWebSockets(server: Server, name: string, seen: IncomingMessage[] = []) {
  const closes: number[] = [];
  /** Bytes that reached a non-agreeing handshake's connection after its head (none should). */
  const plainAfter: string[] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    // The server allows half-open connections: the edge's FIN must end ours too.
    socket.on('end', () => socket.end());
    seen.push(req);
    const key = req.headers['sec-websocket-key'];
    if (req.url === '/no-upgrade') {
      // An origin that does not agree: a normal answer, and the connection stays a plain HTTP one.
      const body = JSON.stringify({ origin: name, upgraded: false });
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      if (head.length > 0) plainAfter.push(head.toString('latin1'));
      socket.on('data', (c: Buffer) => plainAfter.push(c.toString('latin1')));
      return;
    }
    if (req.url === '/wrong-protocol') {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: something-else\r\nConnection: Upgrade\r\n\r\n',
      );
      return;
    }
    if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nx-origin: ${name}\r\n\r\n`,
    );
    const reader = new FrameReader();
    const onData = (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.opcode === 0x8) {
          closes.push(closeCode(f));
          socket.end(encodeFrame(0x8, f.payload.subarray(0, 2), false));
          return;
        }
        if (f.opcode === 0x9) socket.write(encodeFrame(0xa, f.payload, false));
        else if (f.opcode <= 0x2) socket.write(encodeFrame(f.opcode, f.payload, false, f.fin));
      }
    };
    if (head.length > 0) onData(head);
    socket.on('data', onData);
  });
  return { seen, closes, plainAfter };
}

export interface WsTarget {
  port: number;
  tls?: boolean;
}

export interface HandshakeReply {
  status: number;
  headers: Record<string, string>;
  /** The rest of a non-101 answer (its body), latin1. */
  body: string;
}

/** A client connection after its handshake: send, receive, and how it closed. */
export class WsClient {
  private readonly reader = new FrameReader();
  private readonly queue: Frame[] = [];
  private waiting: ((f: Frame) => void) | null = null;
  private sentClose = false;
  /** Resolves with the close code the server sent (1006 when the connection just ended). */
  readonly closed: Promise<number>;
  closedAt = 0;

  constructor(
    readonly socket: Socket,
    readonly reply: HandshakeReply,
    rest: Buffer,
  ) {
    let settle: (code: number) => void = () => {};
    this.closed = new Promise((r) => {
      settle = (code) => {
        if (this.closedAt === 0) this.closedAt = performance.now();
        r(code);
      };
    });
    const onData = (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        if (f.opcode === 0x8) {
          // The server's close, or its answer to ours: the client may close TCP now.
          if (this.sentClose) socket.end();
          else if (socket.writable) socket.end(encodeFrame(0x8, f.payload.subarray(0, 2), true));
          settle(closeCode(f));
          continue;
        }
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(f);
        } else this.queue.push(f);
      }
    };
    socket.on('data', onData);
    socket.on('close', () => settle(1006));
    if (rest.length > 0) onData(rest);
  }

  send(text: string | Buffer, opcode = 0x1): void {
    this.socket.write(encodeFrame(opcode, Buffer.isBuffer(text) ? text : Buffer.from(text), true));
  }

  next(timeoutMs = 5000): Promise<Frame> {
    const f = this.queue.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame in time')), timeoutMs);
      this.waiting = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  }

  /** Sends `text` and returns what comes back. */
  async echo(text: string): Promise<string> {
    this.send(text);
    return (await this.next()).payload.toString();
  }

  /** Sends a close frame; the connection ends once the server's close comes back (see `closed`). */
  close(code = 1000): void {
    this.sentClose = true;
    if (this.socket.writable)
      this.socket.write(encodeFrame(0x8, Buffer.from([code >> 8, code & 0xff]), true));
  }
}

/**
 * Opens a WebSocket (or sends any upgrade head given in `extraHead`) and
 * resolves once the response head is in: a WsClient on 101, else the reply.
 */
export function openWebSocket(
  target: WsTarget,
  headers: Record<string, string>,
  path = '/ws',
  { quietMs = 3000, rawHead }: { quietMs?: number; rawHead?: string } = {},
): Promise<WsClient | HandshakeReply> {
  const key = randomBytes(16).toString('base64');
  const socket = target.tls
    ? tlsConnect({ port: target.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' })
    : connect(target.port, '127.0.0.1');
  socket.on('error', () => {});
  const head =
    rawHead ??
    `GET ${path} HTTP/1.1\r\n` +
      Object.entries({
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': key,
        ...headers,
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n';
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (reply: HandshakeReply, rest: Buffer, open: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      if (open) resolve(new WsClient(socket, reply, rest));
      else {
        socket.destroy();
        resolve(reply);
      }
    };
    const parse = (): [HandshakeReply, Buffer] | null => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] ?? 0);
      const h: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      return [{ status, headers: h, body: '' }, buf.subarray(end + 4)];
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const p = parse();
      if (p?.[0].status === 101) {
        if (p[0].headers['sec-websocket-accept'] !== acceptKey(key) && rawHead === undefined) {
          p[0].status = -101; // a 101 with the wrong accept key: not a WebSocket
          return finish(p[0], p[1], false);
        }
        finish(p[0], p[1], true);
      }
    };
    const settleRaw = () => {
      const p = parse();
      if (p) finish({ ...p[0], body: p[1].toString('latin1') }, p[1], false);
      else finish({ status: 0, headers: {}, body: buf.toString('latin1') }, Buffer.alloc(0), false);
    };
    const timer = setTimeout(settleRaw, quietMs);
    socket.on('data', onData);
    socket.on('close', settleRaw);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(head, 'latin1'));
  });
}

export const isOpen = (x: WsClient | HandshakeReply): x is WsClient => x instanceof WsClient;
