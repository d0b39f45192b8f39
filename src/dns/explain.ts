// `_meridian.<hostname>` TXT: why this client got this answer, in a few
// short strings a person can read with dig.
import type { Snapshot } from '../core/model.js';
import type { Steer } from './steering.js';
import type { SteeredName } from './zone.js';

/** `service`: the name asked about, with the TTL and answer policy its A/AAAA answers carry. */
export function explanation(steer: Steer, snapshot: Snapshot, service: SteeredName): string[] {
  const { hostname, answers, ttl } = service;
  const { client, decision } = steer;
  const loc = client.location;
  const where = loc
    ? [loc.city, loc.subdivision, loc.country].filter(Boolean).join(', ') +
      (loc.point ? ` (${loc.point.lat.toFixed(2)}, ${loc.point.lon.toFixed(2)})` : '')
    : 'unknown (private, reserved or not in the geo database)';
  const first = decision.candidates[0];
  const region = steer.v4 ?? steer.v6 ?? first?.region ?? '-';
  const chosen = snapshot.regions.get(region);
  const home = snapshot.regions.get(decision.home);
  // The A answer's fallback (the AAAA one's when the answer has no IPv4).
  const fallback = steer.v4 !== null ? steer.v4Fallback : steer.v6Fallback;
  const policy =
    answers === 'home'
      ? 'answers=home'
      : `answers=home+fallback fallback=${fallback ?? 'none (no other region up with dial > 0)'}`;
  const lines = [
    `name=${hostname}`,
    `client=${client.subnet} via=${steer.via === 'ecs' ? 'edns-client-subnet' : 'source-address'}`,
    `location=${where}`,
    `home=${decision.home} (${decision.homeReason})`,
    `rule=${first ? `${first.reason}: ${first.detail}` : 'no region'}`,
    `region=${region}`,
    policy,
    `health=${chosen?.health ?? '-'}${home && home !== chosen ? ` (home ${home.id} ${home.health})` : ''}`,
    `dial=${home ? `${home.id} ${home.dial}%` : '-'}`,
    `snapshot=${snapshot.version} ttl=${ttl}${decision.shed ? ' shed=yes' : ''}`,
  ];
  return lines.map((l) => (Buffer.byteLength(l) > 255 ? Buffer.from(l).subarray(0, 255).toString() : l));
}
