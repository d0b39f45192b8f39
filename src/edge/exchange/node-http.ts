import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClientExchange, ClientProtocol } from './client-exchange.js';

/** Node's HTTP/1.x server (llhttp; HTTPS too): a request and its response as one exchange. */
export class NodeHttpExchange implements ClientExchange {
  readonly protocol: ClientProtocol;
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly body: Readable;
  readonly connection: object;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.protocol = req.httpVersion === '1.0' ? 'http/1.0' : 'http/1.1';
    this.method = req.method!;
    this.target = req.url ?? '';
    this.rawHeaders = req.rawHeaders;
    this.body = req;
    this.connection = req.socket;
  }

  get remoteAddress(): string {
    return (this.connection as IncomingMessage['socket']).remoteAddress ?? '0.0.0.0';
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  get statusCode(): number {
    return this.res.statusCode;
  }

  get finished(): boolean {
    return this.res.writableFinished;
  }

  writeHead(status: number, headers: readonly string[]): void {
    this.res.writeHead(status, headers as string[]);
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    if (chunk === undefined) this.res.end();
    else if (encoding === undefined) this.res.end(chunk);
    else this.res.end(chunk, encoding);
  }

  onDrain(listener: () => void): void {
    this.res.once('drain', listener);
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }

  destroy(): void {
    this.res.destroy();
  }

  closeAfterResponse(): void {
    this.res.shouldKeepAlive = false;
  }
}
