// `meridian replication resync`: one anti-entropy pass from a source region's
// Redis into a region that missed its events (a gap), then the gap flag is
// cleared. The source's stream sequence when the pass began is recorded, so
// events older than the pass that age out later are not flagged again.
import { Redis } from 'ioredis';
import { loadConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import type { Logger } from '../log.js';
import { redactUrl } from '../redact.js';
import { connectNatsTransport } from './nats-transport.js';
import type { ReplicationCredentials } from './region.js';
import { type ResyncProgress, type ResyncResult, resync } from './resync.js';
import { gapFlagKey, resyncedKey } from './retention.js';

export interface RunResyncOptions {
  configFile: string;
  /** The region that missed events. */
  region: string;
  /** The region whose events it missed. */
  from: string;
  log: Logger;
  credentials?: ReplicationCredentials;
  ranges?: number;
  onProgress?: (p: ResyncProgress) => void;
}

export interface RunResyncResult extends ResyncResult {
  region: string;
  from: string;
  /** The gap flag was set when the pass began and is now cleared. */
  gapCleared: boolean;
  /** The source stream's last sequence when the pass began; null when NATS could not tell. */
  coveredUpTo: number | null;
}

/** Deletes the flag only if it is still the one seen before the pass (a newer gap stays flagged). */
const CLEAR_IF_SAME = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Raises the covered sequence, never lowers it. */
const RAISE = `local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1`;

export async function runResync(o: RunResyncOptions): Promise<RunResyncResult> {
  const config = loadConfig(o.configFile).replication;
  if (o.region === o.from)
    throw new MeridianError('BAD_ARGUMENT', `--from must be another region than --region (${o.region})`);
  const urlOf = (region: string) => {
    const entry = config.regions.find((r) => r.region === region);
    if (!entry)
      throw new MeridianError('UNKNOWN_REGION', `replication.regions has no entry for region ${region}`, [
        `known: ${config.regions.map((r) => r.region).join(', ') || '(none)'}`,
      ]);
    return entry.redis;
  };
  const [toUrl, fromUrl] = [urlOf(o.region), urlOf(o.from)];
  const password = o.credentials?.redisPassword;
  const connect = async (url: string) => {
    const redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      ...(password ? { password } : {}),
    });
    redis.on('error', () => undefined);
    await redis.connect().catch((err) => {
      redis.disconnect();
      throw new MeridianError('REPLICATION_UNAVAILABLE', `cannot reach Redis at ${redactUrl(url)}`, [
        redactUrl(String(err)),
      ]);
    });
    return redis;
  };
  const to = await connect(toUrl);
  let from: Redis | null = null;
  try {
    from = await connect(fromUrl);
    const keyPrefix = config.keyPrefix;
    const flagBefore = await to.get(gapFlagKey(keyPrefix, o.from));
    const coveredUpTo = config.transport === 'nats' ? await lastSequence(config, o, o.log) : null;
    const result = await resync({
      from,
      to,
      keyPrefix,
      ranges: o.ranges,
      tombstoneTtlMs: config.tombstoneTtl,
      onProgress: o.onProgress,
    });
    if (coveredUpTo !== null) await to.eval(RAISE, 1, resyncedKey(keyPrefix, o.from), coveredUpTo);
    const gapCleared =
      flagBefore !== null &&
      (await to.eval(CLEAR_IF_SAME, 1, gapFlagKey(keyPrefix, o.from), flagBefore)) === 1;
    return { region: o.region, from: o.from, ...result, gapCleared, coveredUpTo };
  } finally {
    to.disconnect();
    from?.disconnect();
  }
}

/** The source stream's last sequence now: every event up to it is already in the source's Redis. */
async function lastSequence(
  config: ReturnType<typeof loadConfig>['replication'],
  o: RunResyncOptions,
  log: Logger,
): Promise<number | null> {
  try {
    const transport = await connectNatsTransport({
      servers: config.nats.servers,
      stream: config.nats.stream,
      auth: {
        token: o.credentials?.natsToken,
        user: o.credentials?.natsUser,
        pass: o.credentials?.natsPassword,
      },
      log,
    });
    try {
      return (await transport.retention?.(o.from, o.region))?.lastSeq ?? null;
    } finally {
      await transport.close();
    }
  } catch (err) {
    log.warn(
      { reason: String(err) },
      'cannot read the source stream from NATS; the gap flag is cleared but may be raised again for events older than this pass',
    );
    return null;
  }
}
