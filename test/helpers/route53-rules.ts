// Route 53's rules for a change batch beyond its schema, written from AWS's
// documentation (API_ChangeResourceRecordSets, API_ResourceRecordSet) and, for
// the wording, from error messages AWS has returned (quoted in public bug
// reports; see src/providers/README.md). Two kinds:
// - a change that cannot be a resource record set at all: InvalidInput,
//   "Invalid request: ..." (checked before the zone is looked at);
// - a batch that does not fit the zone: InvalidChangeBatch, every problem
//   listed, nothing applied.

import { isIPv4, isIPv6 } from 'node:net';
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { Route53Error } from './route53-validate.js';

/** Route 53 keeps names lower case, fully qualified, with `*` escaped as \052. */
export const canonicalName = (n: string) => `${n.toLowerCase().replace(/\.$/, '')}.`.replace(/\*/g, '\\052');

export const setKey = (s: ResourceRecordSet) =>
  `${canonicalName(s.Name ?? '')}|${s.Type}|${s.SetIdentifier ?? ''}`;

const ROUTING = [
  'Weight',
  'Region',
  'Failover',
  'GeoLocation',
  'MultiValueAnswer',
  'CidrRoutingConfig',
  'GeoProximityLocation',
] as const;
const routingOf = (s: ResourceRecordSet) => ROUTING.filter((k) => s[k] !== undefined);
const POLICY_NAMES: Record<string, string> = {
  Weight: 'weighted',
  Region: 'latency',
  Failover: 'failover',
  GeoLocation: 'geolocation',
  MultiValueAnswer: 'multivalue answer',
  CidrRoutingConfig: 'IP-based',
  GeoProximityLocation: 'geoproximity',
};
const policyOf = (s: ResourceRecordSet) => POLICY_NAMES[routingOf(s)[0] ?? ''] ?? 'simple';

/** InvalidInput for a change that is not a valid record set, worded as Route 53 words it. */
export function checkChanges(changes: readonly Change[]): void {
  for (const c of changes) {
    const s = c.ResourceRecordSet as ResourceRecordSet;
    const where = `in Change with [Action=${c.Action}, Name=${s.Name}, Type=${s.Type}, SetIdentifier=${s.SetIdentifier ?? 'null'}]`;
    const refuse = (what: string) => {
      throw new Route53Error('InvalidInput', `Invalid request: ${what} ${where}`);
    };
    const routing = routingOf(s);
    if (routing.length > 0 && s.SetIdentifier === undefined) refuse("Missing field 'SetIdentifier'");
    if ((s.SetIdentifier !== undefined && routing.length === 0) || routing.length > 1)
      refuse(
        `Expected exactly one of [Weight, Region, Failover, GeoLocation, or MultiValueAnswer], but found ${routing.length ? 'more than one' : 'none'}`,
      );
    const targets = [
      s.AliasTarget !== undefined,
      s.TTL !== undefined || s.ResourceRecords !== undefined,
      s.TrafficPolicyInstanceId !== undefined,
    ].filter(Boolean).length;
    const plainComplete = s.TTL !== undefined && s.ResourceRecords !== undefined;
    if (targets > 1 || targets === 0 || (!s.AliasTarget && !s.TrafficPolicyInstanceId && !plainComplete))
      refuse(
        `Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found ${targets > 1 ? 'more than one' : 'none'}`,
      );
  }
}

/** A set as Route 53 compares it for DELETE: every field, values in any order, the name canonical. */
function comparable(s: ResourceRecordSet): string {
  const values = (s.ResourceRecords ?? []).map((r) => r.Value).sort();
  const { ResourceRecords: _, ...rest } = s;
  const sorted = Object.fromEntries(Object.entries({ ...rest, Name: canonicalName(s.Name ?? '') }).sort());
  return JSON.stringify({ ...sorted, values });
}

function recordDataProblem(s: ResourceRecordSet): string | null {
  const bad = (code: string, why: string, v: string) =>
    `Invalid Resource Record: 'FATAL problem: ${code} (${why}) encountered with '${v}''`;
  for (const { Value: v = '' } of s.ResourceRecords ?? []) {
    if (s.Type === 'A' && !isIPv4(v))
      return bad('ARRDATAIllegalIPv4Address', 'Value is not a valid IPv4 address', v);
    if (s.Type === 'AAAA' && !isIPv6(v))
      return bad('AAAARRDATAIllegalIPv6Address', 'Value is not a valid IPv6 address', v);
    if ((s.Type === 'TXT' || s.Type === 'SPF') && !/^(\s*"(?:[^"\\]|\\.)*")+\s*$/.test(v))
      return bad('InvalidCharacterString', 'Value should be enclosed in quotation marks', v);
  }
  return null;
}

/**
 * Applies the changes in order to a copy of the zone's sets; returns Route 53's
 * InvalidChangeBatch messages (and leaves `sets` alone), or [] after replacing
 * `sets` with the result.
 */
export function applyChanges(
  zone: string,
  sets: Map<string, ResourceRecordSet>,
  changes: readonly Change[],
): string[] {
  const next = new Map(sets);
  const problems: string[] = [];
  const apex = canonicalName(zone);
  for (const c of changes) {
    const s = {
      ...(c.ResourceRecordSet as ResourceRecordSet),
      Name: canonicalName(c.ResourceRecordSet?.Name ?? ''),
    };
    const name = s.Name;
    const id = s.SetIdentifier !== undefined ? `, set-identifier='${s.SetIdentifier}'` : '';
    const which = `resource record set [name='${name}', type='${s.Type}'${id}]`;
    const old = next.get(setKey(s));
    if (name !== apex && !name.endsWith(`.${apex}`)) {
      problems.push(`RRSet with DNS name ${name} is not permitted in zone ${apex}`);
      continue;
    }
    if (c.Action === 'DELETE') {
      if (!old) problems.push(`Tried to delete ${which} but it was not found`);
      else if (comparable(old) !== comparable(s))
        problems.push(`Tried to delete ${which} but the values provided do not match the current values`);
      else next.delete(setKey(s));
      continue;
    }
    if (c.Action === 'CREATE' && old) {
      problems.push(`Tried to create ${which} but it already exists`);
      continue;
    }
    const data = recordDataProblem(s);
    const siblings = [...next.values()].filter((o) => o.Name === name && setKey(o) !== setKey(s));
    const mixed = siblings.find((o) => o.Type === s.Type && policyOf(o) !== policyOf(s));
    const sameLocation = siblings.find(
      (o) =>
        o.Type === s.Type && s.GeoLocation && JSON.stringify(o.GeoLocation) === JSON.stringify(s.GeoLocation),
    );
    const cnameClash = siblings.find((o) => (o.Type === 'CNAME') !== (s.Type === 'CNAME'));
    const setId = s.SetIdentifier !== undefined ? `, SetIdentifier ${s.SetIdentifier}` : '';
    if (data) problems.push(data);
    else if (mixed)
      problems.push(
        `RRSet with DNS name ${name}, type ${s.Type}${setId} cannot be created as a non-${policyOf(s)} set exists with the same name and type.`,
      );
    else if (sameLocation)
      problems.push(
        `RRSet with DNS name ${name}, type ${s.Type}${setId} cannot be created because a geolocation RRSet with the same name, type and location already exists.`,
      );
    else if (cnameClash)
      problems.push(
        `RRSet of type ${s.Type} with DNS name ${name} is not permitted as it conflicts with other records with the same DNS name in zone ${apex}`,
      );
    else next.set(setKey(s), s);
  }
  // Checked on the batch's result, so that one batch can change the TTL of every weighted set.
  for (const s of next.values()) {
    const other = [...next.values()].find(
      (o) =>
        o.Name === s.Name &&
        o.Type === s.Type &&
        o.Weight !== undefined &&
        s.Weight !== undefined &&
        o.TTL !== s.TTL,
    );
    if (!other) continue;
    problems.push(
      `RRSet with DNS name ${s.Name} and type ${s.Type}, SetIdentifier ${s.SetIdentifier} cannot be created as weighted sets must contain the same TTL.`,
    );
    break;
  }
  if (problems.length === 0) {
    sets.clear();
    for (const [k, v] of next) sets.set(k, v);
  }
  return [...new Set(problems)];
}
