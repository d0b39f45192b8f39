import { z } from 'zod';
import { duration, httpUrl } from './common.js';

export const controlRole = z
  .enum(['viewer', 'operator', 'admin', 'agent'])
  .describe('viewer < operator < admin (people); agent: an edge or DNS server (see src/control/README.md).');

const tokenSchema = z
  .strictObject({
    name: z.string().min(1).describe('Who this token belongs to: shows up in the audit log.'),
    role: controlRole,
    token: z
      .string()
      .min(16, 'expected a token of at least 16 characters')
      .optional()
      .describe('The secret itself. Exactly one of token, env, file gives the secret.'),
    env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
      .optional()
      .describe('Name of an environment variable holding the secret.'),
    file: z.string().min(1).optional().describe('File holding the secret (its first line; mode 0600).'),
    regions: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Agent tokens only: the region ids whose health the token may report. Required for an agent: `['*']` is any region, `[]` none (a DNS server that only follows the snapshot feed).",
      ),
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

const etcdTlsSchema = z
  .strictObject({
    ca: z
      .string()
      .optional()
      .describe("CA file (PEM) that checks etcd's server certificate; default: the system's CAs."),
    cert: z.string().optional().describe('Client certificate file (PEM) proving control to etcd.'),
    key: z.string().optional().describe("That certificate's private key file (PEM)."),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), 'expected both cert and key, or neither')
  .describe(
    "PEM files: `ca` checks etcd's server certificate (default: the system's CAs); cert+key prove control.",
  );

const etcdAuthSchema = z
  .strictObject({
    user: z.string().min(1).describe('etcd user name.'),
    password: z
      .undefined({ error: 'the password goes in passwordEnv or passwordFile, not in the config' })
      .optional()
      .describe('Not accepted: use passwordEnv or passwordFile.'),
    passwordEnv: envName.optional().describe('Name of an environment variable holding the password.'),
    passwordFile: z.string().min(1).optional().describe('File holding the password (its first line).'),
  })
  .refine(
    (a) => (a.passwordEnv === undefined) !== (a.passwordFile === undefined),
    'expected exactly one of passwordEnv, passwordFile',
  )
  .describe(
    'etcd user; the password comes from an environment variable or a file, never from the config itself.',
  );

const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sqlite').describe('One control instance, state in a SQLite file.'),
    file: z
      .string()
      .default('meridian-control.db')
      .describe('Database file; `meridian control --state FILE` overrides it.'),
  }),
  z
    .strictObject({
      type: z.literal('etcd').describe('Several control instances sharing state and a leader through etcd.'),
      endpoints: z
        .array(httpUrl)
        .min(1)
        .describe('Client URLs of the etcd members (v3 HTTP/JSON gateway); https:// with `tls`.'),
      prefix: z.string().default('/meridian/').describe("Key prefix of control's state in etcd."),
      leaseTtl: duration
        .default(3000)
        .describe("Leader lease: a dead leader's lease runs out after this long."),
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

const outlierSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Judge regions against each other and evacuate outliers.'),
    minRequestsPerSecond: z
      .number()
      .min(0)
      .default(5)
      .describe('A region is judged only while its origins get at least this many requests/s.'),
    errorRateMargin: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe("Worse when its error rate is above the others' by this much and by errorRateRatio times."),
    errorRateRatio: z
      .number()
      .min(1)
      .default(3)
      .describe(
        "Worse only when its error rate is also above this many times the others' (see errorRateMargin).",
      ),
    p99Ratio: z
      .number()
      .min(1)
      .default(3)
      .describe("Or when its p99 is above p99Ratio times the others' and by p99Margin."),
    p99Margin: duration
      .default(200)
      .describe("Worse only when its p99 is also above the others' by this much (see p99Ratio)."),
    fallAfter: duration
      .default(3000)
      .describe(
        'Clearly worse for this long before it is evacuated (and all bad this long before `global`).',
      ),
    riseAfter: duration
      .default(10_000)
      .describe('Fine again for this long before it is restored (and `global` cleared).'),
    maxAutoEvacuated: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe('At most this many regions evacuated automatically at once; null: all regions but one.'),
    steps: dialSteps('down', '50,0').default([50, 0]).describe('Evacuation dials, through the usual gates.'),
    stepInterval: duration.default(1000).describe('Wait between evacuation steps.'),
    probeAfter: duration
      .default(30_000)
      .describe(
        'An evacuated region gets no traffic to judge: after this cool-down control restores it anyway, the first restore step being the probe (evacuated again, with a doubled cool-down, if it is still worse there).',
      ),
    restoreSteps: dialSteps('up', '10,50,100')
      .default([10, 50, 100])
      .describe('Automatic restore dials, capped at the dial the region had before.'),
  })
  .prefault({})
  .describe(
    'Relative health (src/control/outlier.ts): a region clearly worse than the others while they are healthy is evacuated automatically; when every region is bad alike, nothing moves (`global`).',
  );

export const controlSchema = z.strictObject({
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/, 'expected ADDR:PORT such as 127.0.0.1:8300')
    .default('127.0.0.1:8300')
    .describe('Address the API listens on; `--listen` overrides it.'),
  url: httpUrl
    .optional()
    .describe('URL others use to reach this control instance (shown to followers); default from listen.'),
  tls: z
    .strictObject({
      cert: z.string().describe('Certificate chain file (PEM).'),
      key: z.string().describe('Private key file (PEM).'),
    })
    .optional()
    .describe('Serve the API over HTTPS with this certificate and key.'),
  tokens: z
    .array(tokenSchema)
    .default([])
    .describe(
      'Bearer tokens of the API, each with a role (more may come from the MERIDIAN_TOKENS environment variable).',
    ),
  store: storeSchema
    .default({ type: 'sqlite', file: 'meridian-control.db' })
    .describe('Where control keeps its state (dials, operations, audit log): SQLite or etcd.'),
  health: z
    .strictObject({
      fallAfter: duration
        .default(1000)
        .describe('A worse state must hold this long before it is declared (DOWN acts at once then).'),
      riseAfter: duration
        .default(10_000)
        .describe('A better state must hold this long before it is declared: no flapping.'),
      reportStaleAfter: duration
        .default(3000)
        .describe('A report older than this no longer counts as a vantage point.'),
      probeInterval: duration.default(1000).describe("Witness probe of each region's edge /meridian/health."),
      probeTimeout: duration.default(800).describe('A witness probe that takes longer than this fails.'),
      degradedErrorRate: z
        .number()
        .min(0)
        .max(1)
        .default(0.05)
        .describe('A region whose edge reports an error rate above this (0-1) is DEGRADED.'),
      degradedP99: duration
        .default(1000)
        .describe('A region whose edge reports a p99 above this is DEGRADED.'),
    })
    .prefault({})
    .describe(
      'Region health: UNKNOWN until the first evidence, then HEALTHY, DEGRADED, PARTITIONED or DOWN.',
    ),
  gates: z
    .strictObject({
      errorRate: z
        .number()
        .min(0)
        .max(1)
        .default(0.05)
        .describe('A receiving region fails the gate above this error rate (0-1).'),
      p99: duration.default(1000).describe('A receiving region fails the gate above this p99.'),
      maxLoad: z.number().min(0).max(1).default(0.9).describe('Load must stay below this share of capacity.'),
      margin: z
        .number()
        .min(0)
        .default(0.2)
        .describe('Headroom needed before a move, as a share of the moved load on top of it.'),
      maxFailures: z
        .number()
        .int()
        .min(1)
        .default(3)
        .describe('Failed gates in a row before an operation aborts.'),
    })
    .prefault({})
    .describe('Checks before and during every dial move (evacuate, restore, move).'),
  autoRestore: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'A region whose dial control set to 0 because it went DOWN gets its dial back in steps once it is HEALTHY again (after riseAfter). A dial an operator set is never restored automatically.',
        ),
      steps: z
        .array(z.number().int().min(1).max(100))
        .min(1)
        .max(20)
        .refine(
          (s) => s.every((d, i) => i === 0 || d > s[i - 1]),
          'expected steps going up, such as 25,50,75,100',
        )
        .default([25, 50, 75, 100])
        .describe(
          'Dial at each step, going up; the last step is capped at the dial the region had before DOWN.',
        ),
      stepInterval: duration
        .default(30_000)
        .describe('Wait between steps before checking gates (as `meridian restore --step-interval`).'),
      retryAfter: duration
        .default(300_000)
        .describe(
          'An automatic restore that aborts on failed gates is tried again after this long, from the dial it backed off to, as long as the region stays HEALTHY and no operator moved it.',
        ),
    })
    .prefault({})
    .describe('Automatic restore of regions control evacuated because they went DOWN.'),
  outlier: outlierSchema,
  rpo: duration
    .optional()
    .describe(
      "Recovery-point objective: evacuate and restore are refused, and a step's gate fails, while a receiving region's reported replication lag is above it. Unset: replication.rpo when replication.regions is set, else lag is not checked.",
    ),
  scaleUp: z
    .strictObject({
      webhook: httpUrl.describe(
        'POSTed {region, needed, reason} when receivers lack headroom; then control waits for capacity.',
      ),
      wait: duration
        .default(300_000)
        .describe('How long control waits for the new capacity before giving up.'),
    })
    .optional()
    .describe('Ask for more capacity when receiving regions lack headroom.'),
});

export type ControlConfig = z.output<typeof controlSchema>;
export type ControlRole = z.output<typeof controlRole>;
