import { MeridianError } from '../../errors.js';
import { clockOffsetFromEnv, clockRunningAhead } from '../../replication/test-clock.js';
import { type RegionData, WatchService } from './server.js';
import { isLabVersion, LAB_VERSIONS } from './versions.js';

export interface OriginArgs {
  region: string;
  id: string;
  /** ADDR:PORT */
  listen: string;
  peer: string[];
  bootstrap?: boolean;
  release: string;
  seed: number;
  /** The Redis+NATS data setup as JSON (RegionData); absent: the memory path. */
  data?: string;
}

/** --data: the region's Redis and NATS, as the lab passes them. */
export function parseRegionData(text: string): RegionData {
  let d: Partial<RegionData>;
  try {
    d = JSON.parse(text) as Partial<RegionData>;
  } catch {
    throw new MeridianError('BAD_ARGUMENT', '--data expects JSON');
  }
  if (typeof d?.redis !== 'string' || typeof d.keyPrefix !== 'string')
    throw new MeridianError('BAD_ARGUMENT', '--data expects {redis, keyPrefix}');
  return d as RegionData;
}

/** Starts one origin, prints its ready line, and stops it (letting requests in flight finish) on SIGTERM. */
export async function runOrigin(o: OriginArgs): Promise<WatchService> {
  const m = /^(.+):(\d+)$/.exec(o.listen);
  if (!m) throw new MeridianError('BAD_ARGUMENT', `--listen expects ADDR:PORT, got "${o.listen}"`);
  if (!o.region || !o.id) throw new MeridianError('BAD_ARGUMENT', '--region and --id are required');
  if (!isLabVersion(o.release))
    throw new MeridianError('BAD_ARGUMENT', `--release expects one of ${LAB_VERSIONS.join(', ')}`);
  if (!Number.isInteger(o.seed)) throw new MeridianError('BAD_ARGUMENT', '--seed expects an integer');
  const service = await new WatchService({
    region: o.region,
    id: o.id,
    host: m[1],
    port: Number(m[2]),
    peers: o.peer,
    bootstrap: o.bootstrap,
    version: o.release,
    seed: o.seed,
    // Test hook: MERIDIAN_CLOCK_OFFSET_MS=N runs this origin's clock N ms ahead.
    now: clockRunningAhead(clockOffsetFromEnv()),
    ...(o.data ? { data: parseRegionData(o.data) } : {}),
  }).start();
  const ready = { ready: true, part: 'origin', region: o.region, id: o.id, version: o.release };
  process.stdout.write(`${JSON.stringify({ ...ready, listen: `${m[1]}:${service.port}` })}\n`);
  // A deploy stops origins one by one: let the requests they are answering finish.
  const stop = () => {
    void service.close(2000).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return service;
}
