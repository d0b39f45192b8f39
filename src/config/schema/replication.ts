// replication: the replicated cache (src/replication). Every field has a
// default so a config without this section stays valid.
import { z } from 'zod';
import { duration, regionId } from './common.js';

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/\S+$/, 'expected a Redis URL such as redis://127.0.0.1:6379/0');
const natsUrl = z.string().regex(/^(nats|tls):\/\/\S+$/, 'expected a NATS URL such as nats://127.0.0.1:4222');

export const keyspaceSchema = z.strictObject({
  /** Keys starting with this prefix use this mode (the longest matching prefix wins). */
  prefix: z.string(),
  /** replicate: copy the value to other regions; invalidate: delete the key there. */
  mode: z.enum(['replicate', 'invalidate']),
});

export const replicationSchema = z.strictObject({
  /** nats: JetStream (one stream per source region); memory: in-process (one process, the lab's default). */
  transport: z.enum(['nats', 'memory']).default('memory'),
  nats: z
    .strictObject({
      servers: z.array(natsUrl).min(1).default(['nats://127.0.0.1:4222']),
      /** Stream name prefix; the stream of region R is `${stream}_${R}` (dots become underscores). */
      stream: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected letters, digits, _ or -')
        .default('MERIDIAN_REPL'),
      /** How long a stream keeps events a destination has not taken yet (a partition longer than this loses them). */
      maxAge: duration.prefault('24h'),
    })
    .prefault({}),
  /** Each region's own Redis. Regions not listed take part in nothing. */
  regions: z.array(z.strictObject({ region: regionId, redis: redisUrl })).default([]),
  /** Prefix of every cache key in Redis, so the cache shares a Redis with other data safely. */
  keyPrefix: z.string().default('mc:'),
  defaultMode: z.enum(['replicate', 'invalidate']).default('replicate'),
  keyspaces: z.array(keyspaceSchema).default([]),
  /** How long a delete's tombstone outlives the delete (older writes arriving later lose to it). */
  tombstoneTtl: duration.prefault('10m'),
  probe: z
    .strictObject({
      /** How often each region writes its canary key. */
      interval: duration.prefault('1s'),
      /** How often each region looks for the other regions' canaries. */
      poll: duration.prefault('20ms'),
    })
    .prefault({}),
  /** Recovery-point objective: control refuses moves to a region whose lag is above it (control.rpo, when set, wins). */
  rpo: duration.prefault('5s'),
});

export type ReplicationConfig = z.output<typeof replicationSchema>;
export type KeyspaceConfig = z.output<typeof keyspaceSchema>;
