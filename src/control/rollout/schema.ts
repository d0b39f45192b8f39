// JSON schemas of the rollout API (validation, response serialization and /openapi.json).

const metricSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    canary: { type: 'number' },
    baseline: { type: 'number' },
    pValue: { type: ['number', 'null'] },
    pass: { type: 'boolean' },
  },
};

const actionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string', enum: ['deploy', 'rollback', 'verify'] },
    region: { type: 'string' },
    startedAt: { type: 'number' },
    attempt: { type: 'integer' },
    result: {
      type: 'object',
      properties: { ok: { type: 'boolean' }, message: { type: 'string' }, at: { type: 'number' } },
    },
  },
};

const waveSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    regions: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 100 },
    strategy: { type: 'string', enum: ['drain', 'in-place'], default: 'drain' },
  },
  required: ['regions'],
};

export const rolloutRecordSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    version: { type: 'string' },
    previousVersion: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['running', 'paused', 'done', 'rolled-back', 'aborted'] },
    phase: { type: 'string' },
    waves: { type: 'array', items: waveSchema },
    waveIndex: { type: 'integer' },
    regions: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          phase: { type: 'string' },
          dialBefore: { type: 'number' },
        },
      },
    },
    regionsReached: { type: 'array', items: { type: 'string' } },
    judgements: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: { type: 'number' },
          region: { type: 'string' },
          dial: { type: 'number' },
          pass: { type: 'boolean' },
          why: { type: 'string' },
          metrics: { type: 'array', items: metricSchema },
        },
      },
    },
    startedAt: { type: 'number' },
    updatedAt: { type: 'number' },
    phaseAt: { type: 'number' },
    message: { type: 'string' },
    who: { type: 'string' },
    step: { type: 'integer' },
    // The embedded move draining or restoring a region (an operation record), or null.
    move: { type: ['object', 'null'], additionalProperties: true },
    restoreLeft: { type: 'array', items: { type: 'string' } },
    action: { anyOf: [actionSchema, { type: 'null' }] },
    rollbackLeft: { type: 'array', items: { type: 'string' } },
    failure: {
      anyOf: [
        { type: 'object', properties: { why: { type: 'string' }, aborted: { type: 'boolean' } } },
        { type: 'null' },
      ],
    },
    abortRequested: {
      anyOf: [
        {
          type: 'object',
          properties: { who: { type: 'string' }, reason: { type: 'string' }, at: { type: 'number' } },
        },
        { type: 'null' },
      ],
    },
  },
};

export const rolloutOrNullSchema = { anyOf: [rolloutRecordSchema, { type: 'null' }] };

export const rolloutBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Reaches actions' environment and shell scripts: no spaces, quotes or `$`.
    version: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:+@/-]{0,127}$' },
    /** Default: the version the last rollout left (its version when done, its previous one when rolled back). */
    previousVersion: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:+@/-]{0,127}$' },
    waves: { type: 'array', items: waveSchema, minItems: 1, maxItems: 100 },
    dryRun: { type: 'boolean', default: false },
  },
  required: ['version'],
};
