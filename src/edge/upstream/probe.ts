import type { ExchangeHandler } from './exchange.js';
import type { H1Pool } from './pool.js';

/**
 * GET `path` through the upstream's own pool (health checks, peer probes):
 * the status, or 0 when the request failed or took longer than `timeoutMs`.
 * The body is read and dropped so the connection stays reusable.
 */
export function probe(pool: H1Pool, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let status = 0;
    const timer = setTimeout(() => {
      exchange.abort();
      resolve(0);
    }, timeoutMs);
    timer.unref();
    const settle = (result: number) => {
      clearTimeout(timer);
      resolve(result);
    };
    const handler: ExchangeHandler = {
      onHeaders(s) {
        status = s;
        return true;
      },
      onData: () => true,
      onComplete: () => settle(status),
      onError: () => settle(0),
    };
    const exchange = pool.requestNow(
      { method: 'GET', path, headers: ['host', pool.authority], body: null, chunked: false },
      handler,
    );
  });
}
