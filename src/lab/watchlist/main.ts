// `meridian lab-origin` without the rest of the CLI: the lab starts and restarts origins often (a
// deploy restarts a region's origins one by one), and through tsx this entry is ready in about a
// third of the time the whole CLI takes. Same flags as `meridian lab-origin`.
import { parseArgs } from 'node:util';
import { runOrigin } from './run.js';

const { values } = parseArgs({
  options: {
    region: { type: 'string' },
    id: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:0' },
    peer: { type: 'string', multiple: true, default: [] },
    bootstrap: { type: 'boolean', default: false },
    release: { type: 'string', default: 'v1' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
  },
});

runOrigin({
  region: values.region ?? '',
  id: values.id ?? '',
  listen: values.listen,
  peer: values.peer,
  bootstrap: values.bootstrap,
  release: values.release,
  seed: Number(values.seed),
  data: values.data,
}).catch((e: Error) => {
  process.stderr.write(`meridian lab-origin: ${e.message}\n`);
  process.exit(1);
});
