// replication: the replicated cache (src/replication). Every field has a
// default so a config without this section stays valid.
import { z } from 'zod';
import { duration, regionId } from './common.js';

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/\S+$/, 'expected a Redis URL such as redis://127.0.0.1:6379/0');
const natsUrl = z.string().regex(/^(nats|tls):\/\/\S+$/, 'expected a NATS URL such as nats://127.0.0.1:4222');

export const keyspaceSchema = z.strictObject({
  prefix: z
    .string()
    .describe('Keys starting with this prefix use this mode (the longest matching prefix wins).'),
  mode: z
    .enum(['replicate', 'invalidate'])
    .describe('replicate: copy the value to other regions; invalidate: delete the key there.'),
});

export const replicationSchema = z.strictObject({
  transport: z
    .enum(['nats', 'memory'])
    .default('memory')
    .describe(
      "nats: JetStream (one stream per source region); memory: in-process (one process, the lab's default).",
    ),
  nats: z
    .strictObject({
      servers: z.array(natsUrl).min(1).default(['nats://127.0.0.1:4222']).describe('NATS server URLs.'),
      stream: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected letters, digits, _ or -')
        .default('MERIDIAN_REPL')
        .describe('Stream name prefix; the stream of region R is STREAM_R (dots in R become underscores).'),
      maxAge: duration
        .prefault('24h')
        .describe(
          'How long a stream keeps events a destination has not taken yet (a partition longer than this loses them).',
        ),
    })
    .prefault({})
    .describe('NATS JetStream, when `transport` is nats.'),
  regions: z
    .array(
      z.strictObject({
        region: regionId.describe('Region id from `regions`.'),
        redis: redisUrl.describe("URL of the region's Redis, such as redis://127.0.0.1:6379/0."),
      }),
    )
    .default([])
    .describe("Each region's own Redis. Regions not listed take part in nothing."),
  keyPrefix: z
    .string()
    .default('mc:')
    .describe('Prefix of every cache key in Redis, so the cache shares a Redis with other data safely.'),
  defaultMode: z
    .enum(['replicate', 'invalidate'])
    .default('replicate')
    .describe('Mode of keys that match no keyspace prefix.'),
  keyspaces: z.array(keyspaceSchema).default([]).describe('Modes by key prefix.'),
  tombstoneTtl: duration
    .prefault('10m')
    .describe("How long a delete's tombstone outlives the delete (older writes arriving later lose to it)."),
  maxClockOffset: duration
    .prefault('500ms')
    .describe(
      "How far a region's clock may run ahead of the others': a replicated event stamped further ahead of the receiver's clock is held until it is not; a region measured further ahead of its peers (lag-probe canaries) stamps its writes with their time plus this.",
    ),
  probe: z
    .strictObject({
      interval: duration.prefault('1s').describe('How often each region writes its canary key.'),
      poll: duration
        .prefault('20ms')
        .describe("How often each region looks for the other regions' canaries."),
    })
    .prefault({})
    .describe('Replication lag probe: canary keys written in each region and looked for in the others.'),
  rpo: duration
    .prefault('5s')
    .describe(
      'Recovery-point objective: control refuses moves to a region whose lag is above it (control.rpo, when set, wins).',
    ),
});

export type ReplicationConfig = z.output<typeof replicationSchema>;
export type KeyspaceConfig = z.output<typeof keyspaceSchema>;
