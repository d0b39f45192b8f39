import {
  type MeridianConfig,
  type RegionConfig,
  type StaticRecord,
  serviceAnswers,
} from '../config/index.js';
import type { Snapshot } from '../core/model.js';
import { byDistanceFrom, isDown, spillPlan } from '../core/spill-plan.js';
import { MeridianError } from '../errors.js';
import type { Capabilities, RecordSet, Steering } from './model.js';

export interface Desired {
  recordSets: RecordSet[];
  /** Names Meridian manages in the zone: only these are listed, changed or deleted. */
  names: string[];
  /** Where the provider's records only approximate what Meridian's own server answers. */
  warnings: string[];
}

/** Where a region's home clients go now: region -> share (0-1), from health, dials and capacity. */
export function sharesOf(snapshot: Snapshot, home: string): Map<string, number> {
  const spill = spillPlan(snapshot).get(home);
  const shares = new Map<string, number>();
  if (!spill) return shares;
  const add = (id: string, x: number) => x > 1e-9 && shares.set(id, (shares.get(id) ?? 0) + x);
  add(home, spill.keep);
  for (const t of spill.targets) add(t.region, t.fraction * (1 - spill.keep));
  const rest = 1 - [...shares.values()].reduce((a, b) => a + b, 0);
  const homeState = snapshot.regions.get(home)!;
  if (rest > 1e-9) {
    // No headroom anywhere: "shed" keeps them at home (the edge sheds), a DOWN home overloads the nearest up.
    const up = byDistanceFrom(homeState.location, snapshot.regions.values()).find((r) => !isDown(r));
    add(isDown(homeState) && up ? up.id : home, rest);
  }
  return shares;
}

/** Share of all clients each region serves: home groups weighted by demand when known, else equally. */
export function regionWeights(snapshot: Snapshot): Map<string, number> {
  const regions = [...snapshot.regions.values()];
  const totalDemand = regions.reduce((a, r) => a + r.demand, 0);
  const weights = new Map<string, number>();
  for (const home of regions) {
    const w = totalDemand > 0 ? home.demand / totalDemand : 1 / regions.length;
    for (const [id, share] of sharesOf(snapshot, home.id))
      weights.set(id, (weights.get(id) ?? 0) + w * share);
  }
  return weights;
}

function addresses(region: RegionConfig | undefined, type: 'A' | 'AAAA'): string[] {
  if (!region) return [];
  return type === 'A' ? region.addresses.ipv4 : region.addresses.ipv6;
}

function checkTerritories(codes: string[], provider: string, caps: Capabilities) {
  const bad = codes.filter((c) => {
    if (c === '*' || !c.includes('-')) return false;
    if (caps.geoCodes === 'country+subdivision') return false;
    if (caps.geoCodes === 'country+us-subdivision') return !c.startsWith('US-');
    return true;
  });
  if (bad.length > 0) {
    throw new MeridianError(
      'PROVIDER_UNSUPPORTED',
      `${provider} cannot steer by these subdivisions: ${bad.join(', ')}`,
      [`${provider} geo profiles accept: ${caps.geoCodes ?? 'nothing'}; map whole countries instead`],
    );
  }
}

export function staticRecordName(name: string, zone: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === '@' || n === '' || n === zone) return zone;
  return n.endsWith(`.${zone}`) || name.endsWith('.') ? n : `${n}.${zone}`;
}

function staticValue(r: StaticRecord): string[] {
  if (r.type === 'MX') return r.values.map((v) => `${v.preference} ${v.exchange}`);
  return r.values.map(String);
}

/**
 * The record sets a provider must hold so that it steers as Meridian's own
 * server does, as far as its steering mode can express it.
 */
export function desiredRecordSets(
  config: MeridianConfig,
  snapshot: Snapshot,
  steering: Steering,
  provider: string,
  caps: Capabilities,
): Desired {
  if (!caps.steering.includes(steering)) {
    throw new MeridianError('PROVIDER_UNSUPPORTED', `${provider} cannot express ${steering} steering`, [
      `${provider} supports: ${caps.steering.join(', ')}`,
    ]);
  }
  const zone = config.zone.name;
  const regionConfigs = new Map(config.regions.map((r) => [r.id, r]));
  const recordSets: RecordSet[] = [];
  const warnings: string[] = [];
  const names = new Set<string>();

  for (const r of config.zone.records) {
    if (!caps.types.includes(r.type)) {
      throw new MeridianError('PROVIDER_UNSUPPORTED', `${provider} cannot hold ${r.type} records`, [
        `zone.records: ${r.name} ${r.type}; ${provider} supports ${caps.types.join(', ')}`,
      ]);
    }
    const name = staticRecordName(r.name, zone);
    names.add(name);
    recordSets.push({
      name,
      type: r.type,
      ttl: r.ttl ?? config.zone.staticTtl,
      records: staticValue(r).sort(),
    });
  }

  // A provider's record set has no order (Route 53 and PowerDNS shuffle it), so a fallback listed there
  // would not follow the home region: about half of the clients would go to the far one in steady state.
  const withFallback = config.services.filter((s) => serviceAnswers(config, s).answers === 'home+fallback');
  if (withFallback.length > 0 && steering !== 'plain') {
    const which =
      withFallback.length === config.services.length
        ? ''
        : ` (${withFallback.map((s) => s.hostname).join(', ')})`;
    warnings.push(
      `steering.answers home+fallback${which} applies to meridian dns only: ${provider} ${steering} records list one region's addresses`,
    );
  }
  const weights = regionWeights(snapshot);
  for (const service of config.services) {
    names.add(service.hostname);
    // The service's own TTL, else the one control's snapshot carries (zone.ttl of its config).
    const ttl = service.ttl ?? snapshot.policy.ttl;
    for (const type of ['A', 'AAAA'] as const) {
      const base = { name: service.hostname, type, ttl };
      if (steering === 'plain') {
        const records = [...weights.keys()].flatMap((id) => addresses(regionConfigs.get(id), type));
        if (records.length > 0) recordSets.push({ ...base, records: [...new Set(records)].sort() });
      } else if (steering === 'weighted') {
        for (const [id, w] of weights) {
          const records = addresses(regionConfigs.get(id), type);
          const weight = Math.round(w * 100);
          if (records.length > 0 && weight > 0)
            recordSets.push({
              ...base,
              qualifier: id,
              records: [...records].sort(),
              profile: { kind: 'weighted', weight },
            });
        }
      } else {
        const groups = new Map<string, string[]>();
        for (const [code, id] of snapshot.policy.territories)
          groups.set(id, [...(groups.get(id) ?? []), code]);
        const entries: [string, string, string[]][] = [...groups].map(([id, codes]) => [id, id, codes]);
        entries.push(['default', snapshot.policy.defaultRegion, ['*']]);
        for (const [qualifier, home, territories] of entries) {
          checkTerritories(territories, provider, caps);
          const shares = [...sharesOf(snapshot, home)].sort(
            (a, b) => b[1] - a[1] || (a[0] === home ? -1 : 1),
          );
          const [winner] = shares[0] ?? [home];
          if (shares.length > 1 && type === 'A') {
            const split = shares.map(([id, s]) => `${id} ${Math.round(s * 100)} %`).join(', ');
            warnings.push(`geo group ${qualifier} is split (${split}); geo records answer ${winner} only`);
          }
          const records = addresses(regionConfigs.get(winner), type);
          if (records.length > 0)
            recordSets.push({
              ...base,
              qualifier,
              records: [...records].sort(),
              profile: { kind: 'geo', territories: territories.sort() },
            });
        }
      }
    }
  }
  return { recordSets, names: [...names].sort(), warnings };
}
