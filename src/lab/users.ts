import maxmind, { type Reader, type Response } from 'maxmind';
import { isNonPublic, parseIp } from '../core/ip.js';
import type { GeoPoint } from '../core/model.js';
import { defaultDatabasePaths, type GeoLocatorOptions, toLocation } from '../geo/index.js';

export interface VirtualUser {
  id: string;
  /** A real public address inside a network the geo database places in `place`. */
  address: string;
  /** "US-CA" for a US state, "FR" for a country. */
  place: string;
  /** Where the geo database puts the user's network; null when its record has no coordinates. */
  location: GeoPoint | null;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same users. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const toDotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

interface Network {
  base: number;
  prefix: number;
  location: GeoPoint | null;
}

/**
 * Samples the IPv4 space and keeps, per wanted place, the public networks the
 * database places there. Sampling by address weights big networks more, as
 * real address space is; small places still get a few networks.
 */
export function sampleNetworks(
  reader: Reader<Response>,
  wanted: ReadonlySet<string>,
  random: () => number,
  { perPlace = 8, maxLookups = 400_000 } = {},
): Map<string, Network[]> {
  const found = new Map<string, Network[]>();
  const full = () => found.size === wanted.size && [...found.values()].every((n) => n.length >= perPlace);
  for (let i = 0; i < maxLookups && !(i % 1000 === 0 && full()); i++) {
    const n = Math.floor(random() * 2 ** 32) >>> 0;
    const ip = parseIp(toDotted(n))!;
    if (isNonPublic(ip)) continue;
    const [record, prefix] = reader.getWithPrefixLength(toDotted(n));
    // Servers locate a client by its /24 (and ECS sends a /24): keep networks that are whole /24s.
    if (prefix > 24) continue;
    const loc = toLocation(record as Parameters<typeof toLocation>[0]);
    if (!loc) continue;
    const place = loc.subdivision && wanted.has(loc.subdivision) ? loc.subdivision : loc.country;
    if (!place || !wanted.has(place)) continue;
    const list = found.get(place) ?? [];
    if (list.length >= perPlace * 4) continue;
    const base = prefix >= 32 ? n : (n >>> (32 - prefix)) << (32 - prefix);
    list.push({ base: base >>> 0, prefix, location: loc.point ?? null });
    found.set(place, list);
  }
  return found;
}

/** Picks a place by weight, then a host inside one of its networks. */
export function placeUsers(
  count: number,
  weights: ReadonlyMap<string, number>,
  networks: ReadonlyMap<string, Network[]>,
  random: () => number,
): VirtualUser[] {
  const places = [...weights].filter(([p]) => (networks.get(p)?.length ?? 0) > 0);
  const total = places.reduce((s, [, w]) => s + w, 0);
  const users: VirtualUser[] = [];
  for (let i = 0; i < count; i++) {
    let x = random() * total;
    const [place] =
      places.find(([, w]) => {
        x -= w;
        return x < 0;
      }) ?? places[places.length - 1];
    const nets = networks.get(place)!;
    const net = nets[Math.floor(random() * nets.length)];
    const size = 2 ** (32 - net.prefix);
    const offset = size <= 2 ? 0 : 1 + Math.floor(random() * (size - 2));
    users.push({ id: `u${i}`, address: toDotted((net.base + offset) >>> 0), place, location: net.location });
  }
  return users;
}

export async function createUsers(
  count: number,
  weights: ReadonlyMap<string, number>,
  geo: GeoLocatorOptions = {},
  seed = 1,
): Promise<{ users: VirtualUser[]; missing: string[] }> {
  const reader = await maxmind.open<Response>(geo.database ?? defaultDatabasePaths().ipv4, {
    watchForUpdates: false,
    cache: { max: 0 },
  });
  const random = seededRandom(seed);
  const networks = sampleNetworks(reader, new Set(weights.keys()), random);
  const missing = [...weights.keys()].filter((p) => !networks.has(p));
  return { users: placeUsers(count, weights, networks, random), missing };
}
