import { z } from 'zod';
import { secretRef } from '../secret.js';
import { duration } from './common.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected ADDRESS:PORT such as 127.0.0.1:8101');

export const priorityClass = z.enum(['critical', 'normal', 'best-effort']);

const serviceEdgeSchema = z.strictObject({
  name: z.string().describe('Service name from services[].'),
  maxInFlight: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Hard cap on requests in flight to this service at this edge; above it requests are shed.'),
  idempotentMethods: z
    .array(z.string().toUpperCase())
    .default([])
    .describe('Methods besides GET, HEAD and OPTIONS that may be retried in another region.'),
  retryStatuses: z
    .array(z.number().int().min(500).max(599))
    .default([502, 503, 504])
    .describe(
      "Upstream statuses that count as a failure to retry in another region (Envoy's retriable_status_codes).",
    ),
  priorities: z
    .array(
      z.strictObject({
        pathPrefix: z.string().startsWith('/').describe('Requests whose path starts with this.'),
        class: priorityClass.describe(
          'Priority class of those requests (best-effort is shed first, critical last).',
        ),
      }),
    )
    .default([])
    .describe('Priority by path prefix, first match wins; the priority header overrides it.'),
});

const adminObject = z
  .strictObject({
    listen: hostPort
      .default('127.0.0.1:8302')
      .describe(
        'Admin address (/metrics, /meridian/health, /meridian/ready, /fault); port 0 picks a free one.',
      ),
    faults: z
      .boolean()
      .default(false)
      .describe('Mutating routes (POST/DELETE /fault) exist only when true; they then need `token`.'),
    token: secretRef
      .optional()
      .describe('Operator bearer token for mutating routes: "env:NAME" or "file:PATH".'),
  })
  .refine((a) => !a.faults || a.token !== undefined, {
    message: 'edge.admin.faults: true needs edge.admin.token ("env:NAME" or "file:PATH")',
  });

const adminSchema = z
  .preprocess((v) => (typeof v === 'string' ? { listen: v } : v), adminObject)
  .describe('`admin: ADDR:PORT` (read-only admin port) or the object form.');

const peersSchema = z.strictObject({
  key: secretRef
    .optional()
    .describe(
      'Shared key of this deployment\'s edges ("env:NAME" or "file:PATH"). A proxying edge signs its x-meridian-* headers with it; without it no x-meridian-* header is believed from anyone.',
    ),
  maxSkew: duration
    .default(30_000)
    .describe('A signature older or newer than this is refused (limits replay).'),
});

const http2Schema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      "Serve HTTP/2 on the data port: h2 by ALPN over TLS, h2c with prior knowledge on plain HTTP (the connection preface tells it from HTTP/1.1, as Envoy's codec_type AUTO).",
    ),
  maxConcurrentStreams: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'Streams a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused.',
    ),
  maxHeaderListSize: z
    .number()
    .int()
    .min(1024)
    .optional()
    .describe(
      'Largest decoded header list of a request (SETTINGS_MAX_HEADER_LIST_SIZE, names + values + 32 per field, after HPACK); larger resets the stream. Default: edge.maxHeaderSize.',
    ),
  resetBurst: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe(
      'Rapid reset (CVE-2023-44487): streams a client may cancel before their answer began, at once; past it and `resetsPerSecond` the connection gets GOAWAY ENHANCE_YOUR_CALM and is closed.',
    ),
  resetsPerSecond: z
    .number()
    .min(0)
    .default(100)
    .describe('Cancelled streams that refill the reset budget per second.'),
  controlFrameBurst: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'SETTINGS and PING frames a client may send at once (floods make the server queue acknowledgements); past it and `controlFramesPerSecond` the connection is closed with ENHANCE_YOUR_CALM.',
    ),
  controlFramesPerSecond: z
    .number()
    .min(0)
    .default(20)
    .describe('SETTINGS and PING frames that refill the control-frame budget per second.'),
  maxInvalidFrames: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe(
      "Invalid frames tolerated per connection before it is closed (Node's maxSessionInvalidFrames).",
    ),
  maxRefusedStreams: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe(
      "Streams refused over the concurrency limit per connection before it is closed (Node's maxSessionRejectedStreams).",
    ),
  idleTimeout: duration
    .default(60_000)
    .describe('A connection without an open stream this long gets GOAWAY and is closed.'),
});

export const edgeSchema = z.strictObject({
  listen: hostPort
    .optional()
    .describe("Data-plane address; default: host and port of this region's `edge` URL."),
  admin: adminSchema
    .prefault('127.0.0.1:8302')
    .describe('Admin port: an address, or { listen, faults, token }.'),
  peers: peersSchema.prefault({}).describe("Trust between this deployment's edges (signed hops)."),
  workers: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(1)
    .describe('Processes serving the data plane; 0 means one per CPU core.'),
  drainTimeout: duration
    .default(20_000)
    .describe(
      'On SIGTERM, requests in flight may finish for this long before their connections are closed. --drain-timeout overrides.',
    ),
  tls: z
    .strictObject({
      cert: z.string().describe('Certificate chain file (PEM).'),
      key: z.string().describe('Private key file (PEM).'),
    })
    .optional()
    .describe('Serve HTTPS with this certificate and key (PEM files).'),
  timeouts: z
    .strictObject({
      connect: duration.default(2000).describe('Connecting to an origin.'),
      headers: duration.default(15_000).describe("Until the origin's response headers arrive."),
      idle: duration.default(30_000).describe('Longest silence inside a body, both ways.'),
      clientHeaders: duration
        .default(10_000)
        .describe(
          "A request head must be complete this long after its first byte (after accept for a new connection): absolute, dripping bytes does not extend it (slowloris). Node's headersTimeout, nginx's client_header_timeout.",
        ),
      clientRequest: duration
        .default(300_000)
        .describe("The whole request, body included, within this (Node's requestTimeout; 0: off)."),
      tlsHandshake: duration
        .default(10_000)
        .describe('A TLS handshake must finish within this (tls.Server handshakeTimeout).'),
    })
    .refine((t) => t.clientRequest === 0 || t.clientHeaders <= t.clientRequest, {
      message: 'timeouts.clientHeaders must not be longer than timeouts.clientRequest',
    })
    .prefault({})
    .describe('Timeouts towards origins and clients (durations or milliseconds).'),
  http2: http2Schema
    .prefault({})
    .describe('Inbound HTTP/2 (h2 and h2c) and its limits against known attacks.'),
  connectionsPerOrigin: z.number().int().min(1).default(64).describe('Connections kept per origin.'),
  retry: z
    .strictObject({
      budgetPercent: z
        .number()
        .min(0)
        .max(100)
        .default(20)
        .describe('Retries allowed as a share of requests over the window.'),
      budgetWindow: duration.default(10_000).describe('Window over which the retry budget is counted.'),
      minPerSecond: z
        .number()
        .min(0)
        .default(10)
        .describe('Retries always allowed per second, so a quiet edge can still retry.'),
      bufferBodyBytes: z
        .number()
        .int()
        .min(0)
        .default(65_536)
        .describe(
          'Bodies of retry-safe requests (idempotent, or carrying the idempotency key) up to this size are read before proxying so the request can be retried; larger ones stream.',
        ),
      idempotencyKeyHeader: z
        .string()
        .toLowerCase()
        .regex(/^[!#$%&'*+.^_`|~0-9a-z-]*$/, 'expected an HTTP header name')
        .default('idempotency-key')
        .describe(
          "A request carrying this header (exactly once, non-empty) is retried like an idempotent one, the key forwarded unchanged: the origin must dedupe by it. '' turns it off.",
        ),
    })
    .prefault({})
    .describe('Retries in another region, within a budget.'),
  passiveHealth: z
    .strictObject({
      consecutiveFailures: z
        .number()
        .int()
        .min(1)
        .default(5)
        .describe('Consecutive connect errors or 5xx answers before an origin is ejected.'),
      consecutiveConnectFailures: z
        .number()
        .int()
        .min(1)
        .default(3)
        .describe(
          'Refused connections in a row that mark an origin down at once (not capped like ejection); the active health check brings it back.',
        ),
      baseEjection: duration
        .default(5000)
        .describe('First ejection of an origin lasts this long; each ejection in a row doubles it.'),
      maxEjection: duration.default(60_000).describe('Longest ejection.'),
      maxEjectedPercent: z
        .number()
        .min(0)
        .max(100)
        .default(50)
        .describe('At most this share of a pool is ejected at once.'),
    })
    .prefault({})
    .describe('Passive health: origins ejected after failures seen in real traffic.'),
  shedding: z
    .strictObject({
      maxInFlight: z.number().int().min(1).default(2000).describe('Default hard cap per service.'),
      adaptive: z
        .enum(['vegas', 'gradient', 'off'])
        .default('vegas')
        .describe('Adaptive concurrency limit driven by latency, or off (only the hard cap).'),
      initialLimit: z.number().int().min(1).default(200).describe('Adaptive limit at start.'),
      minLimit: z.number().int().min(1).default(20).describe('The adaptive limit never goes below this.'),
      bestEffortShare: z
        .number()
        .min(0)
        .max(1)
        .default(0.8)
        .describe('Share of the limit best-effort requests may use; the rest is kept for the others.'),
      priorityHeader: z
        .string()
        .toLowerCase()
        .default('x-meridian-priority')
        .describe('Request header naming its priority class (critical, normal, best-effort).'),
      retryAfter: z
        .number()
        .int()
        .min(0)
        .default(1)
        .describe("Retry-After (seconds) on a shed request's 503."),
    })
    .prefault({})
    .describe('Load shedding: caps on requests in flight.'),
  peerProbeInterval: duration
    .default(1000)
    .describe("Probe other regions' edges' /meridian/health this often."),
  attemptsHeader: z
    .enum(['request', 'always', 'never'])
    .default('request')
    .describe(
      'x-meridian-attempts on responses: when the request asks (x-meridian-debug: attempts), always, or never.',
    ),
  accessLog: z.boolean().default(true).describe('Log one line per request.'),
  maxHeaderSize: z
    .number()
    .int()
    .min(1024)
    .default(16_384)
    .describe('Largest request head accepted (bytes); larger gets 431.'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('Client connections open at once per process (worker); more are closed on accept.'),
  maxRequestsPerConnection: z
    .number()
    .int()
    .min(0)
    .default(1000)
    .describe(
      'A keep-alive connection is closed after this many requests (nginx keepalive_requests); 0: no limit.',
    ),
  tunnels: z
    .strictObject({
      evacuationGrace: duration
        .default(30_000)
        .describe(
          'A tunnel (WebSocket or another agreed Upgrade) whose client decide() now sends to another region (an evacuation, a dial, a region DOWN) is closed this long after the edge sees it (WebSocket close 1001), so the client reconnects and lands there. 0: at once.',
        ),
      closeTimeout: duration
        .default(2000)
        .describe(
          'After the edge closes a tunnel (evacuation, drain), its sockets are cut this long after the close frame if still open.',
        ),
    })
    .prefault({})
    .describe("Upgraded connections (WebSocket) tunnelled to an origin or through another region's edge."),
  services: z
    .array(serviceEdgeSchema)
    .default([])
    .describe('Per-service settings at the edge, by service name.'),
});

export type EdgeConfig = z.output<typeof edgeSchema>;
export type EdgeHttp2Config = z.output<typeof http2Schema>;
export type EdgeServiceConfig = z.output<typeof serviceEdgeSchema>;
export type PriorityClass = z.output<typeof priorityClass>;
