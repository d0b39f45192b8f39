import type { EdgeContext } from '../context.js';

/**
 * A chunked request body is read (up to `limit` bytes) before anything goes
 * upstream, so a malformed chunk (bad or overflowing size, data longer than
 * its size) is refused by Node's parser with a 400 while the origin has
 * received nothing. A body that ends within the limit is sent with a
 * Content-Length (as nginx does with request buffering); a longer one is put
 * back in front of the stream and streamed chunked. A malformed chunk past the
 * limit then cuts the upstream request short: the origin sees an unfinished
 * chunked body, never a complete second request.
 */
export function holdChunkedBody(ctx: EdgeContext, limit: number, then: () => void): void {
  const req = ctx.x.body!;
  const chunks: Buffer[] = [];
  let held = 0;
  const onData = (c: Buffer) => {
    chunks.push(c);
    held += c.length;
    if (held <= limit) return;
    req.pause();
    req.off('data', onData);
    req.off('end', onEnd);
    req.unshift(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    if (!ctx.finished) then();
  };
  const onEnd = () => {
    if (ctx.finished) return;
    const body = Buffer.concat(chunks);
    ctx.bufferedBody = body;
    ctx.contentLength = body.length;
    ctx.upstreamHeaders.push('content-length', String(body.length));
    then();
  };
  req.on('data', onData);
  req.once('end', onEnd);
}
