// Distance as a user feels it. The lab runs on one machine, so the client adds
// the round trip a real user would pay: light in fibre covers about 100 km per
// millisecond one way along real routes, i.e. about 1 ms of round trip per
// 100 km of great-circle distance, plus a base for the last mile and routers.
import { greatCircleKm } from '../../core/geo-distance.js';
import type { GeoPoint } from '../../core/model.js';

export interface LatencyModel {
  /** Round trip at zero distance: access network, routers. */
  baseMs: number;
  /** Round trip per 100 km of great-circle distance. */
  msPer100Km: number;
}

export const DEFAULT_LATENCY: LatencyModel = { baseMs: 5, msPer100Km: 1 };

/** A user's round trip to a region; the base alone when either place is unknown. */
export function roundTripMs(
  user: GeoPoint | null,
  region: GeoPoint | null | undefined,
  model: LatencyModel = DEFAULT_LATENCY,
): number {
  if (!user || !region) return model.baseMs;
  return model.baseMs + (greatCircleKm(user, region) / 100) * model.msPer100Km;
}
