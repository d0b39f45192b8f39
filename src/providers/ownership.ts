// Which names Meridian may change, as external-dns's TXT registry decides it:
// a TXT record at a companion name says who owns the name. Meridian writes
// the marker when it takes a free name and never touches a name that holds
// records without its marker.
import type { RecordSet } from './model.js';

export const MARKER_PREFIX = '_meridian-owner.';
export const DEFAULT_OWNER_ID = 'default';
const MARKER_TTL = 300;

/** The companion name: a TXT at the name itself would sit beside a CNAME, which DNS forbids. */
export const markerName = (name: string) => `${MARKER_PREFIX}${name}`;

export const markerText = (owner: string) => `heritage=meridian,owner=${owner}`;

export const markerRecordSet = (name: string, owner: string): RecordSet => ({
  name: markerName(name),
  type: 'TXT',
  ttl: MARKER_TTL,
  records: [markerText(owner)],
});

/** The owner a marker names, or null when no record of the set is a Meridian marker. */
export function ownerInMarker(marker: RecordSet | undefined): string | null {
  for (const text of marker?.records ?? []) {
    const fields = new Map(
      [...text.replace(/^"|"$/g, '').matchAll(/([^,=]+)=([^,]*)/g)].map((m) => [m[1].trim(), m[2].trim()]),
    );
    const owner = fields.get('owner');
    if (fields.get('heritage') === 'meridian' && owner) return owner;
  }
  return null;
}

export interface LeftAlone {
  name: string;
  reason: string;
}

export interface Ownership {
  /** Names this owner may write: its own, and free names it takes now. */
  managed: string[];
  /** Free names: their marker is written with their records. */
  claimed: string[];
  leftAlone: LeftAlone[];
}

/**
 * Sorts the names Meridian wants into those it may change and those it must
 * leave alone. `current` holds what the provider has at the names and at
 * their companion names.
 */
export function ownershipOf(
  names: readonly string[],
  current: readonly RecordSet[],
  owner: string,
  /** Take names that hold records but no marker at all (what a Meridian before markers wrote). */
  adopt = false,
): Ownership {
  const out: Ownership = { managed: [], claimed: [], leftAlone: [] };
  for (const name of names) {
    const marker = current.find((r) => r.name === markerName(name) && r.type === 'TXT');
    const markedBy = ownerInMarker(marker);
    const records = current.filter((r) => r.name === name);
    if (markedBy === owner) out.managed.push(name);
    else if (markedBy !== null)
      out.leftAlone.push({ name, reason: `owned by another Meridian (owner=${markedBy})` });
    else if (marker)
      out.leftAlone.push({
        name,
        reason: `${markerName(name)} holds a TXT record that is not Meridian's marker`,
      });
    else if (records.length > 0 && !adopt)
      out.leftAlone.push({
        name,
        reason: `it has records Meridian did not write (${[...new Set(records.map((r) => r.type))].join(', ')}) and no ${markerName(name)} marker`,
      });
    else {
      out.managed.push(name);
      out.claimed.push(name);
    }
  }
  return out;
}
