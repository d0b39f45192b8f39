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
      replicas: z
        .union([z.literal(1), z.literal(3), z.literal(5)])
        .default(1)
        .describe(
          'Copies of each stream in the NATS cluster: 3 (a 3-node cluster) survives losing a node with nothing acknowledged lost.',
        ),
      storage: z
        .enum(['file', 'memory'])
        .default('file')
        .describe('Where the streams keep events: file (survives a NATS restart) or memory.'),
    })
    .prefault({})
    .describe('NATS JetStream, when `transport` is nats.'),
  outbox: z
    .strictObject({
      maxLength: z
        .number()
        .int()
        .positive()
        .default(1_000_000)
        .describe(
          'Events the outbox of a region holds at most while the transport does not take them; a write beyond it is refused (REPLICATION_UNAVAILABLE), not lost.',
        ),
    })
    .prefault({})
    .describe(
      "The region's transactional outbox in its Redis: a write and its outgoing event are stored together, a shipper publishes them.",
    ),
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
  antiEntropy: z
    .strictObject({
      interval: duration
        .prefault('10m')
        .describe(
          "How often each region compares its records with every peer's (digests by key range over NATS request/reply) and copies what it lacks; 0: never on a timer.",
        ),
      afterRecovery: z
        .boolean()
        .default(true)
        .describe(
          "Also compare with a peer soon after its events arrive again once they had stopped (a partition's heal, a region back): whatever the streams lost in between is copied then.",
        ),
      ranges: z
        .number()
        .int()
        .min(1)
        .max(65_536)
        .default(256)
        .describe('Key ranges the digests are cut into: more ranges, fewer records fetched per difference.'),
    })
    .prefault({})
    .describe(
      'Anti-entropy between regions (transport nats): the repair for what a stream lost or reordered, as Cassandra repairs replicas.',
    ),
  rpo: duration
    .prefault('5s')
    .describe(
      'Recovery-point objective: control refuses moves to a region whose lag is above it (control.rpo, when set, wins).',
    ),
});

export type ReplicationConfig = z.output<typeof replicationSchema>;
export type KeyspaceConfig = z.output<typeof keyspaceSchema>;
