// JSON schemas of the API (validation and /openapi.json).
import { z } from 'zod';
import { HEALTH_STATES } from '../core/model.js';
import { snapshotJsonSchema } from '../feed/codec.js';
import { edgeReportSchema } from '../feed/report.js';
import { rolloutOrNullSchema } from './rollout/schema.js';

const toJson = (schema: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<
    string,
    unknown
  >;
  return rest;
};

export const snapshotSchema = toJson(snapshotJsonSchema);
export const reportSchema = toJson(edgeReportSchema);

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'string' } },
      },
      required: ['code', 'message'],
    },
  },
};

export const operationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['evacuate', 'restore'] },
    region: { type: 'string' },
    steps: { type: 'array', items: { type: 'number' } },
    stepIntervalMs: { type: 'number' },
    fromDial: { type: 'number' },
    index: { type: 'integer' },
    status: { type: 'string', enum: ['running', 'done', 'aborted'] },
    phase: {
      type: 'string',
      enum: ['pending', 'waiting-capacity', 'stepping', 'backing-off', 'done', 'aborted'],
    },
    failures: { type: 'integer' },
    reason: { type: 'string' },
    who: { type: 'string' },
    startedAt: { type: 'number' },
    stepAt: { type: 'number' },
    message: { type: 'string' },
    auto: { type: 'boolean' },
    failover: { type: 'boolean' },
  },
};

const num = { type: 'number' };
const str = { type: 'string' };
const nullable = (type: string) => ({ type: [type, 'null'] });

/** ControlState.outlier (OutlierState, src/core/outlier-moves.ts) plus the leader's current judgement per region. */
export const outlierSchema = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    evacuated: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          region: str,
          at: num,
          why: str,
          fromDial: num,
          phase: { type: 'string', enum: ['evacuating', 'evacuated', 'restoring'] },
          operation: str,
          probeAt: num,
          probes: { type: 'integer' },
        },
      },
    },
    global: { anyOf: [{ type: 'object', properties: { at: num, why: str } }, { type: 'null' }] },
    decisions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: num,
          region: str,
          decision: { type: 'string', enum: ['redirect', 'restrict', 'hold-global', 'restore', 'limit'] },
          why: str,
        },
      },
    },
    regions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          region: str,
          verdict: str,
          why: str,
          errorRate: nullable('number'),
          p99Ms: nullable('number'),
          requestsPerS: nullable('number'),
        },
      },
    },
  },
};

export const statusSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    leader: { type: ['string', 'null'] },
    instance: { type: 'string' },
    isLeader: { type: 'boolean' },
    regions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          health: { type: 'string', enum: [...HEALTH_STATES] },
          why: { type: 'string' },
          pending: { type: ['string', 'null'], enum: [...HEALTH_STATES, null] },
          dial: { type: 'number' },
          load: { type: 'number' },
          demand: { type: 'number' },
          capacity: { type: 'number' },
          replicationLagMs: { type: ['number', 'null'] },
          replicationRetention: {
            type: ['object', 'null'],
            properties: {
              headroomS: { type: ['number', 'null'] },
              low: { type: 'boolean' },
              gap: { type: 'boolean' },
              gapFrom: { type: 'array', items: { type: 'string' } },
            },
          },
          autoRestore: { type: ['string', 'null'] },
        },
      },
    },
    rpoMs: { type: ['number', 'null'] },
    operation: { anyOf: [operationSchema, { type: 'null' }] },
    outlier: outlierSchema,
    rollout: rolloutOrNullSchema,
  },
};

export const dialBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dial: { type: 'number', minimum: 0, maximum: 100 },
    reason: { type: 'string', maxLength: 500 },
  },
  required: ['dial'],
};

export const moveBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['evacuate', 'restore'] },
    region: { type: 'string' },
    steps: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 1, maxItems: 20 },
    stepIntervalMs: { type: 'number', minimum: 0, maximum: 86_400_000, default: 30_000 },
    reason: { type: 'string', maxLength: 500, default: '' },
    dryRun: { type: 'boolean', default: false },
  },
  required: ['kind', 'region'],
};
