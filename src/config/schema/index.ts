// The one schema of meridian.yaml. Each section lives in its own file; a part
// that needs settings adds its section here.
import { z } from 'zod';
import { controlSchema } from './control.js';
import { dnsSchema } from './dns.js';
import { edgeSchema } from './edge.js';
import { labSchema } from './lab.js';
import { providersSchema } from './providers.js';
import { regionSchema } from './regions.js';
import { replicationSchema } from './replication.js';
import { rolloutChecks, rolloutSchema } from './rollout.js';
import { serviceSchema } from './services.js';
import { geoSchema, steeringSchema, trustSchema } from './steering.js';
import { zoneSchema } from './zone.js';

const shape = z
  .strictObject({
    zone: zoneSchema.describe(
      'The DNS zone Meridian serves: its name, TTLs, SOA, name servers and static records.',
    ),
    regions: z
      .array(regionSchema)
      .min(1)
      .describe('The regions that serve traffic, each with its location, capacity, addresses and edge.'),
    services: z
      .array(serviceSchema)
      .min(1)
      .describe('The services behind the edges: hostname and origins per region.'),
    steering: steeringSchema
      .prefault({})
      .describe('Which region is home to which clients, and what happens beyond.'),
    trust: trustSchema.prefault({}).describe('Proxies whose statement of the client address is believed.'),
    geo: geoSchema.prefault({}).describe('The geo database that locates clients.'),
    replication: replicationSchema
      .prefault({})
      .describe('The replicated cache between regions (src/replication).'),
    edge: edgeSchema.prefault({}).describe('The edge gateway of each region (meridian edge).'),
    dns: dnsSchema.prefault({}).describe('The authoritative DNS server (meridian dns).'),
    control: controlSchema
      .prefault({})
      .describe('The control plane (meridian control): health, dials, operations.'),
    lab: labSchema.prefault({}),
    providers: providersSchema
      .prefault({})
      .describe(
        'DNS providers `meridian dns sync` can write to; secrets come from flags or the environment.',
      ),
    rollout: rolloutSchema
      .optional()
      .describe('Release plan of `meridian rollout`: waves of regions, canary judgement, actions.'),
  })
  .describe(
    'meridian.yaml: one file describes the whole deployment; every part reads the sections it needs.',
  );

type Shape = z.output<typeof shape>;

function crossChecks(cfg: Shape, ctx: z.RefinementCtx) {
  const ids = new Set<string>();
  cfg.regions.forEach((r, i) => {
    if (ids.has(r.id))
      ctx.addIssue({
        code: 'custom',
        path: ['regions', i, 'id'],
        message: `region id "${r.id}" is used twice`,
      });
    ids.add(r.id);
  });
  const known = (id: string) => ids.has(id);
  cfg.control.tokens.forEach((t, i) => {
    (t.regions ?? []).forEach((id, j) => {
      if (id !== '*' && !known(id))
        ctx.addIssue({
          code: 'custom',
          path: ['control', 'tokens', i, 'regions', j],
          message: `expected a region id from regions (or '*'), got "${id}"`,
        });
    });
  });
  const seenCodes = new Map<string, string>();
  cfg.steering.territories.forEach((t, i) => {
    if (!known(t.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['steering', 'territories', i, 'region'],
        message: `expected a region id from regions, got "${t.region}"`,
      });
    }
    t.codes.forEach((code, j) => {
      const other = seenCodes.get(code);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['steering', 'territories', i, 'codes', j],
          message: `territory ${code} is already mapped to ${other}`,
        });
      }
      seenCodes.set(code, t.region);
    });
  });
  if (cfg.steering.default !== undefined && !known(cfg.steering.default)) {
    ctx.addIssue({
      code: 'custom',
      path: ['steering', 'default'],
      message: `expected a region id from regions, got "${cfg.steering.default}"`,
    });
  }
  const hostnames = new Set<string>();
  cfg.services.forEach((s, i) => {
    if (hostnames.has(s.hostname))
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'hostname'],
        message: `hostname ${s.hostname} is used twice`,
      });
    hostnames.add(s.hostname);
    if (s.hostname !== cfg.zone.name && !s.hostname.endsWith(`.${cfg.zone.name}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'hostname'],
        message: `expected a name inside the zone ${cfg.zone.name}, got ${s.hostname}`,
      });
    }
    s.origins.forEach((o, j) => {
      if (!known(o.region)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'origins', j, 'region'],
          message: `expected a region id from regions, got "${o.region}"`,
        });
      }
    });
  });
  const serviceNames = new Set<string>();
  cfg.services.forEach((s, i) => {
    if (serviceNames.has(s.name))
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'name'],
        message: `service name ${s.name} is used twice`,
      });
    serviceNames.add(s.name);
  });
  rolloutChecks(cfg.rollout, known, ctx);
}

export const configSchema = shape.superRefine(crossChecks);

export type MeridianConfig = z.output<typeof configSchema>;
export type MeridianConfigInput = z.input<typeof configSchema>;

/** Stable identifier of the emitted schema; editors and `$schema` references in meridian.yaml key on it. */
export const CONFIG_SCHEMA_ID = 'https://meridian.dev/schema/config.json';

/** The schema as JSON Schema (draft 2020-12), for editors: what a user may write. */
export function configJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(shape, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  const { $schema, ...rest } = json;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'Meridian configuration (meridian.yaml)',
    ...rest,
  };
}

export type { ControlConfig, ControlRole } from './control.js';
export type { DnsConfig } from './dns.js';
export type { EdgeConfig, EdgeHttp2Config, EdgeServiceConfig, PriorityClass } from './edge.js';
export type { RegionConfig } from './regions.js';
export type { RolloutActionConfig, RolloutConfig, RolloutWave } from './rollout.js';
export { rolloutWaves } from './rollout.js';
export type { HealthCheckConfig, ServiceConfig } from './services.js';
export type { GeoConfig, SteeringConfig, TrustConfig } from './steering.js';
export type { StaticRecord, ZoneConfig } from './zone.js';
