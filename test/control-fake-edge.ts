// A stand-in for a region's edge where the real one is not needed: answers
// the witness on /meridian/health and reports to control every 100 ms with
// the real reporter. Tests change what it reports.
import { createServer, type Server } from 'node:http';
import type { EdgeReport } from '../src/feed/report.js';
import { type Reporter, startReporter } from '../src/feed/reporter.js';

export interface FakeEdge {
  report: EdgeReport;
  /** Stop answering the witness (as if the edge's host were unreachable). */
  unreachable: boolean;
  close(): Promise<void>;
}

export async function startFakeEdge(
  region: string,
  port: number,
  controlUrl: string,
  token: string,
): Promise<FakeEdge> {
  const edge: FakeEdge = {
    unreachable: false,
    report: {
      region,
      at: Date.now(),
      origins: [
        { url: 'http://127.0.0.1:1/a', healthy: true },
        { url: 'http://127.0.0.1:1/b', healthy: true },
      ],
      requestsPerS: 100,
      errorRate: 0,
      p99Ms: 10,
      load: 100,
      capacity: 1000,
      demandByHome: { [region]: 100 },
      peers: {},
    },
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    if (edge.unreachable) return req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ region, origins: edge.report.origins, state: 'ok' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const reporter: Reporter = startReporter({
    controlUrl,
    token,
    intervalMs: 100,
    collect: () => ({ ...edge.report, at: Date.now() }),
  });
  edge.close = async () => {
    await reporter.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return edge;
}
