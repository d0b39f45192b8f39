import { z } from 'zod';
import { HEALTH_STATES, type Health, type Snapshot } from '../core/model.js';
import { MeridianError } from '../errors.js';

// The wire form of a snapshot: Maps become arrays of entries so that region
// ids such as "__proto__" survive JSON.
const regionJson = z.strictObject({
  id: z.string(),
  name: z.string(),
  location: z.strictObject({ lat: z.number(), lon: z.number() }),
  capacity: z.number(),
  load: z.number(),
  demand: z.number(),
  health: z.enum(HEALTH_STATES),
  dial: z.number().min(0).max(100),
});

export const snapshotJsonSchema = z.strictObject({
  version: z.number().int().nonnegative(),
  /** Absent means epoch 0: what controls before epochs sent. */
  epoch: z.number().int().nonnegative().optional(),
  regions: z.array(regionJson),
  policy: z.strictObject({
    territories: z.array(z.tuple([z.string(), z.string()])),
    defaultRegion: z.string(),
    fallback: z.enum(['nearest', 'default']),
    overflow: z.enum(['shed', 'overload']),
    ttl: z.number().int().nonnegative(),
  }),
});

export type SnapshotJson = z.output<typeof snapshotJsonSchema>;

export function snapshotToJson(s: Snapshot): SnapshotJson {
  return {
    version: s.version,
    // Epoch 0 is left out, so data planes from before epochs still read it.
    ...(s.epoch ? { epoch: s.epoch } : {}),
    regions: [...s.regions.values()].map((r) => ({ ...r, location: { ...r.location } })),
    policy: { ...s.policy, territories: [...s.policy.territories.entries()] },
  };
}

export function snapshotFromJson(value: unknown): Snapshot {
  const parsed = snapshotJsonSchema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new MeridianError('BAD_REQUEST', 'not a valid snapshot', details);
  }
  const j = parsed.data;
  return {
    version: j.version,
    ...(j.epoch ? { epoch: j.epoch } : {}),
    regions: new Map(j.regions.map((r) => [r.id, { ...r, health: r.health as Health }])),
    policy: { ...j.policy, territories: new Map(j.policy.territories) },
  };
}

/** Orders snapshots by (epoch, version): negative when `a` is older than `b`. */
export function compareSnapshots(
  a: Pick<Snapshot, 'epoch' | 'version'>,
  b: Pick<Snapshot, 'epoch' | 'version'>,
) {
  return (a.epoch ?? 0) - (b.epoch ?? 0) || a.version - b.version;
}
