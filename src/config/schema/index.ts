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

const shape = z.strictObject({
  zone: zoneSchema,
  regions: z.array(regionSchema).min(1),
  services: z.array(serviceSchema).min(1),
  steering: steeringSchema.prefault({}),
  trust: trustSchema.prefault({}),
  geo: geoSchema.prefault({}),
  replication: replicationSchema.prefault({}),
  edge: edgeSchema.prefault({}),
  dns: dnsSchema.prefault({}),
  control: controlSchema.prefault({}),
  lab: labSchema.prefault({}),
  providers: providersSchema.prefault({}),
  rollout: rolloutSchema.optional(),
});

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

/** The schema as JSON Schema (draft 2020-12), for editors: what a user may write. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(shape, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

export type { ControlConfig, ControlRole } from './control.js';
export type { DnsConfig } from './dns.js';
export type { EdgeConfig, EdgeServiceConfig, PriorityClass } from './edge.js';
export type { RegionConfig } from './regions.js';
export type { RolloutActionConfig, RolloutConfig, RolloutWave } from './rollout.js';
export { rolloutWaves } from './rollout.js';
export type { HealthCheckConfig, ServiceConfig } from './services.js';
export type { GeoConfig, SteeringConfig, TrustConfig } from './steering.js';
export type { StaticRecord, ZoneConfig } from './zone.js';
