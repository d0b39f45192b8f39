// A TCP relay run inside a lab site's network namespace (`ip netns exec NS node relay-main.js`):
// the lab's links cross namespaces through it (src/lab/netns.ts). One plain fault proxy per
// route, no delay (the links process adds the round trip); its own entry, so it starts fast.
import { parseArgs } from 'node:util';
import { FaultProxy } from './fault-proxy.js';

interface Route {
  link: string;
  listen: { host: string; port: number };
  target: { host: string; port: number };
}

const { values } = parseArgs({ options: { routes: { type: 'string', default: '[]' } } });

async function main() {
  const routes = JSON.parse(values.routes) as Route[];
  const proxies = await Promise.all(
    routes.map((r) => new FaultProxy({ listen: r.listen, target: r.target }).start()),
  );
  process.stdout.write(`${JSON.stringify({ ready: true, part: 'relay', routes: routes.length })}\n`);
  const stop = () => {
    void Promise.all(proxies.map((p) => p.close())).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: Error) => {
  process.stderr.write(`meridian relay: ${e.message}\n`);
  process.exit(1);
});
