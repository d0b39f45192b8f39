import { z } from 'zod';
import { cidr, duration } from './common.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected ADDRESS:PORT such as 127.0.0.1:5353');

export const dnsSchema = z.strictObject({
  listen: z
    .array(hostPort)
    .min(1)
    .default(['127.0.0.1:5353'])
    .describe(
      'UDP and TCP addresses to serve on (each on both); port 0 picks a free one. --listen overrides.',
    ),
  admin: hostPort
    .default('127.0.0.1:8301')
    .describe('Admin HTTP address (/metrics, /meridian/health, /meridian/ready); port 0 picks a free one.'),
  workers: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(0)
    .describe('Processes serving queries; 0 means one per CPU core.'),
  explain: z
    .boolean()
    .default(true)
    .describe('Answer `_meridian.<hostname>` TXT with why this client got this answer.'),
  maxUdpPayload: z
    .number()
    .int()
    .min(512)
    .max(4096)
    .default(1232)
    .describe('Largest UDP response we send, whatever the client offers (RFC 9715 suggests 1232).'),
  tcpIdleTimeout: duration
    .default(10_000)
    .describe('A TCP connection with no query for this long is closed.'),
  maxTcpConnections: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('Most TCP connections open at once per process.'),
  ecs: z
    .strictObject({
      trustFrom: z
        .array(cidr)
        .optional()
        .describe(
          'Source networks (resolvers) whose ECS option is believed. Absent: from anyone. From any other source the option is ignored: the answer is steered by the source address and carries no ECS option.',
        ),
    })
    .prefault({})
    .describe('EDNS Client Subnet (RFC 7871): whose stated client subnet steers the answer.'),
  rateLimit: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Limit response rates (false: answer everything).'),
      responsesPerSecond: z
        .number()
        .positive()
        .default(200)
        .describe(
          'Responses per second of one kind for one name to one client network (the whole server, all workers).',
        ),
      burst: z
        .number()
        .int()
        .min(1)
        .default(400)
        .describe('Responses a network may send in a burst above the rate.'),
      slip: z
        .number()
        .int()
        .min(0)
        .max(10)
        .default(2)
        .describe(
          'Every Nth limited response is sent truncated (TC, so a real client retries over TCP); the rest are dropped. 0 drops all, 1 truncates all.',
        ),
      ipv4Prefix: z
        .number()
        .int()
        .min(8)
        .max(32)
        .default(24)
        .describe('IPv4 clients are limited together by network of this prefix length.'),
      ipv6Prefix: z
        .number()
        .int()
        .min(16)
        .max(128)
        .default(56)
        .describe('IPv6 clients are limited together by network of this prefix length.'),
      tableSize: z
        .number()
        .int()
        .min(1024)
        .max(1 << 24)
        .refine((n) => (n & (n - 1)) === 0, 'expected a power of two such as 131072')
        .default(1 << 17)
        .describe(
          'Buckets in the fixed table (a power of two, 1024 to 16M; 20 bytes each, per worker); classes that hash alike share one.',
        ),
    })
    .prefault({})
    .describe(
      'Response-rate limiting over UDP, so the server cannot amplify attacks: per client network, name class and response kind (as NSD and Knot). With several workers each allows its share (rate / workers).',
    ),
});

export type DnsConfig = z.output<typeof dnsSchema>;
