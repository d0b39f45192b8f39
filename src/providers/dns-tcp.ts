import { connect } from 'node:net';
import { MeridianError } from '../errors.js';

/** Sends one message over TCP and returns the reply (RFC 1035 two-byte length framing). */
export function exchangeTcp(host: string, port: number, message: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = Buffer.alloc(0);
    const fail = (why: string) => {
      socket.destroy();
      reject(new MeridianError('PROVIDER_UNREACHABLE', `DNS server ${host}:${port} ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`did not answer within ${timeoutMs} ms`));
    socket.on('error', (e: NodeJS.ErrnoException) => fail(`cannot be reached: ${e.code ?? e.message}`));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        socket.destroy();
        resolve(data.subarray(2, 2 + data.readUInt16BE(0)));
      }
    });
    socket.on('end', () => fail('closed the connection without an answer'));
  });
}
