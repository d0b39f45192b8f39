import { z } from 'zod';
import { secretRef } from '../secret.js';
import { duration } from './common.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected ADDRESS:PORT such as 127.0.0.1:8101');

export const priorityClass = z.enum(['critical', 'normal', 'best-effort']);

const serviceEdgeSchema = z.strictObject({
  /** Service name from services[]. */
  name: z.string(),
  /** Hard cap on requests in flight to this service at this edge; above it requests are shed. */
  maxInFlight: z.number().int().min(1).optional(),
  /** Methods besides GET, HEAD and OPTIONS that may be retried in another region. */
  idempotentMethods: z.array(z.string().toUpperCase()).default([]),
  /** Upstream statuses that count as a failure to retry in another region (Envoy's retriable_status_codes). */
  retryStatuses: z.array(z.number().int().min(500).max(599)).default([502, 503, 504]),
  /** Priority by path prefix, first match wins; the priority header overrides it. */
  priorities: z
    .array(z.strictObject({ pathPrefix: z.string().startsWith('/'), class: priorityClass }))
    .default([]),
});

const adminObject = z
  .strictObject({
    /** Admin address (/metrics, /meridian/health, /meridian/ready, /fault); port 0 picks a free one. */
    listen: hostPort.default('127.0.0.1:8302'),
    /** Mutating routes (POST/DELETE /fault) exist only when true; they then need `token`. */
    faults: z.boolean().default(false),
    /** Operator bearer token for mutating routes: "env:NAME" or "file:PATH". */
    token: secretRef.optional(),
  })
  .refine((a) => !a.faults || a.token !== undefined, {
    message: 'edge.admin.faults: true needs edge.admin.token ("env:NAME" or "file:PATH")',
  });

/** `admin: ADDR:PORT` (read-only admin port) or the object form. */
const adminSchema = z.preprocess((v) => (typeof v === 'string' ? { listen: v } : v), adminObject);

const peersSchema = z.strictObject({
  /**
   * Shared key of this deployment's edges ("env:NAME" or "file:PATH"). A proxying edge signs its
   * x-meridian-* headers with it; without it no x-meridian-* header is believed from anyone.
   */
  key: secretRef.optional(),
  /** A signature older or newer than this is refused (limits replay). */
  maxSkew: duration.default(30_000),
});

export const edgeSchema = z.strictObject({
  /** Data-plane address; default: host and port of this region's `edge` URL. */
  listen: hostPort.optional(),
  /** Admin port: an address, or { listen, faults, token }. */
  admin: adminSchema.prefault('127.0.0.1:8302'),
  /** Trust between this deployment's edges (signed hops). */
  peers: peersSchema.prefault({}),
  /** Processes serving the data plane; 0 means one per CPU core. */
  workers: z.number().int().min(0).max(64).default(1),
  /** On SIGTERM, requests in flight may finish for this long before their connections are closed. --drain-timeout overrides. */
  drainTimeout: duration.default(20_000),
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
  timeouts: z
    .strictObject({
      connect: duration.default(2000),
      /** Until the origin's response headers arrive. */
      headers: duration.default(15_000),
      /** Longest silence inside a body, both ways. */
      idle: duration.default(30_000),
      /**
       * A request head must be complete this long after its first byte (after
       * accept for a new connection): absolute, dripping bytes does not extend
       * it (slowloris). Node's headersTimeout, nginx's client_header_timeout.
       */
      clientHeaders: duration.default(10_000),
      /** The whole request, body included, within this (Node's requestTimeout; 0: off). */
      clientRequest: duration.default(300_000),
      /** A TLS handshake must finish within this (tls.Server handshakeTimeout). */
      tlsHandshake: duration.default(10_000),
    })
    .refine((t) => t.clientRequest === 0 || t.clientHeaders <= t.clientRequest, {
      message: 'timeouts.clientHeaders must not be longer than timeouts.clientRequest',
    })
    .prefault({}),
  /** Connections kept per origin. */
  connectionsPerOrigin: z.number().int().min(1).default(64),
  retry: z
    .strictObject({
      /** Retries allowed as a share of requests over the window. */
      budgetPercent: z.number().min(0).max(100).default(20),
      budgetWindow: duration.default(10_000),
      /** Retries always allowed per second, so a quiet edge can still retry. */
      minPerSecond: z.number().min(0).default(10),
      /**
       * Bodies of retry-safe requests (idempotent, or carrying the idempotency key) up to
       * this size are read before proxying so the request can be retried; larger ones stream.
       */
      bufferBodyBytes: z.number().int().min(0).default(65_536),
      /**
       * A request carrying this header (exactly once, non-empty) is retried like an idempotent
       * one, the key forwarded unchanged: the origin must dedupe by it. '' turns it off.
       */
      idempotencyKeyHeader: z
        .string()
        .toLowerCase()
        .regex(/^[!#$%&'*+.^_`|~0-9a-z-]*$/, 'expected an HTTP header name')
        .default('idempotency-key'),
    })
    .prefault({}),
  passiveHealth: z
    .strictObject({
      /** Consecutive connect errors or 5xx answers before an origin is ejected. */
      consecutiveFailures: z.number().int().min(1).default(5),
      /**
       * Refused connections in a row that mark an origin down at once (not capped
       * like ejection); the active health check brings it back.
       */
      consecutiveConnectFailures: z.number().int().min(1).default(3),
      baseEjection: duration.default(5000),
      maxEjection: duration.default(60_000),
      /** At most this share of a pool is ejected at once. */
      maxEjectedPercent: z.number().min(0).max(100).default(50),
    })
    .prefault({}),
  shedding: z
    .strictObject({
      /** Default hard cap per service. */
      maxInFlight: z.number().int().min(1).default(2000),
      /** Adaptive concurrency limit driven by latency, or off (only the hard cap). */
      adaptive: z.enum(['vegas', 'gradient', 'off']).default('vegas'),
      initialLimit: z.number().int().min(1).default(200),
      minLimit: z.number().int().min(1).default(20),
      /** Share of the limit best-effort requests may use; the rest is kept for the others. */
      bestEffortShare: z.number().min(0).max(1).default(0.8),
      priorityHeader: z.string().toLowerCase().default('x-meridian-priority'),
      retryAfter: z.number().int().min(0).default(1),
    })
    .prefault({}),
  /** Probe other regions' edges' /meridian/health this often. */
  peerProbeInterval: duration.default(1000),
  /** x-meridian-attempts on responses: when the request asks (x-meridian-debug: attempts), always, or never. */
  attemptsHeader: z.enum(['request', 'always', 'never']).default('request'),
  accessLog: z.boolean().default(true),
  /** Largest request head accepted (bytes); larger gets 431. */
  maxHeaderSize: z.number().int().min(1024).default(16_384),
  /** Client connections open at once per process (worker); more are closed on accept. */
  maxConnections: z.number().int().min(1).default(10_000),
  /** A keep-alive connection is closed after this many requests (nginx keepalive_requests); 0: no limit. */
  maxRequestsPerConnection: z.number().int().min(0).default(1000),
  services: z.array(serviceEdgeSchema).default([]),
});

export type EdgeConfig = z.output<typeof edgeSchema>;
export type EdgeServiceConfig = z.output<typeof serviceEdgeSchema>;
export type PriorityClass = z.output<typeof priorityClass>;
