// One WebSocket load process of `npm run bench -- edge`:
// node --import tsx bench/edge/ws-load.ts PORT CONNECTIONS SECONDS
// Each connection sends a 64-byte text message and waits for its echo, over
// and over; prints {"messages", "latenciesMs" (a sample)} as one JSON line.
import { isOpen, openWebSocket } from '../../test/helpers/websocket.js';

const [port, connections, seconds] = process.argv.slice(2).map(Number);
const message = 'x'.repeat(64);
const clients = await Promise.all(
  Array.from({ length: connections }, () =>
    openWebSocket({ port }, { host: 'ws.example.com' }, '/ws').then((c) => {
      if (!isOpen(c)) throw new Error(`handshake answered ${c.status}`);
      return c;
    }),
  ),
);
const until = performance.now() + seconds * 1000;
let messages = 0;
const latencies: number[] = [];
await Promise.all(
  clients.map(async (c) => {
    while (performance.now() < until) {
      const t = performance.now();
      await c.echo(message);
      messages++;
      // Every 16th, so the sample stays small at any rate.
      if ((messages & 15) === 0) latencies.push(performance.now() - t);
    }
    c.close();
  }),
);
process.stdout.write(`${JSON.stringify({ messages, latenciesMs: latencies })}\n`);
process.exit(0);
