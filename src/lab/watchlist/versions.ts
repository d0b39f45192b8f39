// The versions of the lab's sample service, for deploy and rollout drills:
// v1 (what the lab starts), v2 (a good release: the same behaviour) and v3
// (a bad release). Pure: the origin asks what a request should suffer.

export const LAB_VERSIONS = ['v1', 'v2', 'v3'] as const;
export type LabVersion = (typeof LAB_VERSIONS)[number];
export const isLabVersion = (v: unknown): v is LabVersion =>
  typeof v === 'string' && (LAB_VERSIONS as readonly string[]).includes(v);

/**
 * The watch list's routes: `list` is GET and `create` is POST on the collection
 * (/users/U/items, the route most requests take: 80 % of them read it, and every
 * POST), `item` is PUT and DELETE on /users/U/items/I.
 */
export type LabRoute = 'collection' | 'item' | 'other';

export function routeOf(path: string): LabRoute {
  if (/^\/users\/[^/]+\/items$/.test(path)) return 'collection';
  if (/^\/users\/[^/]+\/items\/[^/]+$/.test(path)) return 'item';
  return 'other';
}

export interface VersionBehaviour {
  /** Share of the route's requests that answer 500. */
  errors: { route: LabRoute; rate: number } | null;
  /** Added before answering the route's requests. */
  latency: { route: LabRoute; ms: number } | null;
}

/**
 * v3 breaks the collection route, so GETs (retried elsewhere by the edge) and
 * POSTs (which nobody retries without an Idempotency-Key) both meet it, and
 * slows the item route.
 */
export const VERSION_BEHAVIOUR: Readonly<Record<LabVersion, VersionBehaviour>> = {
  v1: { errors: null, latency: null },
  v2: { errors: null, latency: null },
  v3: { errors: { route: 'collection', rate: 0.3 }, latency: { route: 'item', ms: 150 } },
};

/** 32-bit mix (splitmix32's finaliser): the same (seed, n) always gives the same number. */
function mix(seed: number, n: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b9) + Math.imul(n | 0, 0x85ebca6b)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A seed per origin from the lab's seed and the origin's name, so origins fail on different requests. */
export function originSeed(seed: number, origin: string): number {
  let h = seed | 0;
  for (let i = 0; i < origin.length; i++) h = mix(h, origin.charCodeAt(i));
  return h;
}

/**
 * What the n-th request (counted per route, from 0) of an origin on `version`
 * suffers: a deterministic pattern, so two runs with one seed fail the same requests.
 */
export function faultFor(
  version: LabVersion,
  route: LabRoute,
  n: number,
  seed: number,
): { fail: boolean; delayMs: number } {
  const b = VERSION_BEHAVIOUR[version];
  const fail = b.errors !== null && b.errors.route === route && mix(seed, n) / 2 ** 32 < b.errors.rate;
  const delayMs = b.latency !== null && b.latency.route === route ? b.latency.ms : 0;
  return { fail, delayMs };
}
