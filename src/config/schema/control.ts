import { z } from 'zod';
import { duration, httpUrl } from './common.js';

/** viewer < operator < admin (people); agent: an edge or DNS server (see src/control/README.md). */
export const controlRole = z.enum(['viewer', 'operator', 'admin', 'agent']);

const tokenSchema = z
  .strictObject({
    /** Who this token belongs to: shows up in the audit log. */
    name: z.string().min(1),
    role: controlRole,
    /** The secret itself, the name of an environment variable holding it, or a file (first line, mode 0600). */
    token: z.string().min(16, 'expected a token of at least 16 characters').optional(),
    env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    file: z.string().min(1).optional(),
    /**
     * Agent tokens only: the region ids whose health the token may report. Required for an agent:
     * `['*']` is any region, `[]` none (a DNS server that only follows the snapshot feed).
     */
    regions: z.array(z.string().min(1)).optional(),
  })
  .refine(
    (t) => [t.token, t.env, t.file].filter((s) => s !== undefined).length === 1,
    'expected exactly one of token, env, file',
  )
  .superRefine((t, ctx) => {
    if (t.role === 'agent' && t.regions === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['regions'],
        message: `agent token "${t.name}" must list the regions it may report for ([us-east-1], ['*'] for any, [] for none)`,
      });
    if (t.role !== 'agent' && t.regions !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['regions'],
        message: `only agent tokens report for regions; token "${t.name}" has role ${t.role}`,
      });
  });

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name');

/** PEM files: `ca` checks etcd's server certificate (default: the system's CAs); cert+key prove control. */
const etcdTlsSchema = z
  .strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), 'expected both cert and key, or neither');

/** etcd user; the password comes from an environment variable or a file, never from the config itself. */
const etcdAuthSchema = z
  .strictObject({
    user: z.string().min(1),
    password: z
      .undefined({ error: 'the password goes in passwordEnv or passwordFile, not in the config' })
      .optional(),
    passwordEnv: envName.optional(),
    passwordFile: z.string().min(1).optional(),
  })
  .refine(
    (a) => (a.passwordEnv === undefined) !== (a.passwordFile === undefined),
    'expected exactly one of passwordEnv, passwordFile',
  );

const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sqlite'),
    /** Database file; `meridian control --state FILE` overrides it. */
    file: z.string().default('meridian-control.db'),
  }),
  z
    .strictObject({
      type: z.literal('etcd'),
      /** Client URLs of the etcd members (v3 HTTP/JSON gateway); https:// with `tls`. */
      endpoints: z.array(httpUrl).min(1),
      prefix: z.string().default('/meridian/'),
      /** Leader lease: a dead leader's lease runs out after this long. */
      leaseTtl: duration.default(3000),
      tls: etcdTlsSchema.optional(),
      auth: etcdAuthSchema.optional(),
    })
    .refine((s) => !s.tls || s.endpoints.every((e) => e.startsWith('https://')), {
      message: 'with tls, every endpoint must be an https:// URL',
      path: ['endpoints'],
    }),
]);

const dialSteps = (direction: 'down' | 'up', example: string) =>
  z
    .array(z.number().int().min(0).max(100))
    .min(1)
    .max(20)
    .refine(
      (s) => s.every((d, i) => i === 0 || (direction === 'down' ? d < s[i - 1] : d > s[i - 1])),
      `expected steps going ${direction}, such as ${example}`,
    );

/**
 * Relative health (src/control/outlier.ts): a region clearly worse than the others while they are
 * healthy is evacuated automatically; when every region is bad alike, nothing moves (`global`).
 */
const outlierSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** A region is judged only while its origins get at least this many requests/s. */
    minRequestsPerSecond: z.number().min(0).default(5),
    /** Worse when its error rate is above the others' by this much and by errorRateRatio times. */
    errorRateMargin: z.number().min(0).max(1).default(0.05),
    errorRateRatio: z.number().min(1).default(3),
    /** Or when its p99 is above p99Ratio times the others' and by p99Margin. */
    p99Ratio: z.number().min(1).default(3),
    p99Margin: duration.default(200),
    /** Clearly worse for this long before it is evacuated (and all bad this long before `global`). */
    fallAfter: duration.default(3000),
    /** Fine again for this long before it is restored (and `global` cleared). */
    riseAfter: duration.default(10_000),
    /** At most this many regions evacuated automatically at once; null: all regions but one. */
    maxAutoEvacuated: z.number().int().min(0).nullable().default(null),
    /** Evacuation dials, through the usual gates. */
    steps: dialSteps('down', '50,0').default([50, 0]),
    stepInterval: duration.default(1000),
    /**
     * An evacuated region gets no traffic to judge: after this cool-down control restores it anyway,
     * the first restore step being the probe (evacuated again, with a doubled cool-down, if it is
     * still worse there).
     */
    probeAfter: duration.default(30_000),
    /** Automatic restore dials, capped at the dial the region had before. */
    restoreSteps: dialSteps('up', '10,50,100').default([10, 50, 100]),
  })
  .prefault({});

export const controlSchema = z.strictObject({
  /** Address the API listens on; `--listen` overrides it. */
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/, 'expected ADDR:PORT such as 127.0.0.1:8300')
    .default('127.0.0.1:8300'),
  /** URL others use to reach this control instance (shown to followers); default from listen. */
  url: httpUrl.optional(),
  tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
  tokens: z.array(tokenSchema).default([]),
  store: storeSchema.default({ type: 'sqlite', file: 'meridian-control.db' }),
  health: z
    .strictObject({
      /** A worse state must hold this long before it is declared (DOWN acts at once then). */
      fallAfter: duration.default(1000),
      /** A better state must hold this long before it is declared: no flapping. */
      riseAfter: duration.default(10_000),
      /** A report older than this no longer counts as a vantage point. */
      reportStaleAfter: duration.default(3000),
      /** Witness probe of each region's edge /meridian/health. */
      probeInterval: duration.default(1000),
      probeTimeout: duration.default(800),
      degradedErrorRate: z.number().min(0).max(1).default(0.05),
      degradedP99: duration.default(1000),
    })
    .prefault({}),
  gates: z
    .strictObject({
      /** A receiving region fails the gate above this error rate (0-1). */
      errorRate: z.number().min(0).max(1).default(0.05),
      p99: duration.default(1000),
      /** Load must stay below this share of capacity. */
      maxLoad: z.number().min(0).max(1).default(0.9),
      /** Headroom needed before a move, as a share of the moved load on top of it. */
      margin: z.number().min(0).default(0.2),
      /** Failed gates in a row before an operation aborts. */
      maxFailures: z.number().int().min(1).default(3),
    })
    .prefault({}),
  autoRestore: z
    .strictObject({
      /**
       * A region whose dial control set to 0 because it went DOWN gets its dial back in steps once it
       * is HEALTHY again (after riseAfter). A dial an operator set is never restored automatically.
       */
      enabled: z.boolean().default(true),
      /** Dial at each step, going up; the last step is capped at the dial the region had before DOWN. */
      steps: z
        .array(z.number().int().min(1).max(100))
        .min(1)
        .max(20)
        .refine(
          (s) => s.every((d, i) => i === 0 || d > s[i - 1]),
          'expected steps going up, such as 25,50,75,100',
        )
        .default([25, 50, 75, 100]),
      /** Wait between steps before checking gates (as `meridian restore --step-interval`). */
      stepInterval: duration.default(30_000),
      /**
       * An automatic restore that aborts on failed gates is tried again after this long, from the
       * dial it backed off to, as long as the region stays HEALTHY and no operator moved it.
       */
      retryAfter: duration.default(300_000),
    })
    .prefault({}),
  outlier: outlierSchema,
  /**
   * Recovery-point objective: evacuate and restore are refused, and a step's gate fails, while a
   * receiving region's reported replication lag is above it. Unset: replication.rpo when
   * replication.regions is set, else lag is not checked.
   */
  rpo: duration.optional(),
  scaleUp: z
    .strictObject({
      /** POSTed {region, needed, reason} when receivers lack headroom; then control waits for capacity. */
      webhook: httpUrl,
      wait: duration.default(300_000),
    })
    .optional(),
});

export type ControlConfig = z.output<typeof controlSchema>;
export type ControlRole = z.output<typeof controlRole>;
