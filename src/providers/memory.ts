import { BUILTIN_CAPABILITIES } from './capabilities.js';
import { type Change, type DnsProvider, normalize, type RecordSet, recordSetKey } from './model.js';

/**
 * `builtin`: Meridian's own DNS server needs no push (it follows the snapshot),
 * so this provider keeps the record sets in memory. It is the reference every
 * other provider's conformance suite is held to.
 */
export class BuiltinProvider implements DnsProvider {
  readonly name = 'builtin';
  readonly capabilities = BUILTIN_CAPABILITIES;
  private readonly zones = new Map<string, Map<string, RecordSet>>();

  constructor(zones: readonly string[] = []) {
    for (const z of zones) this.zones.set(z, new Map());
  }

  async list(zone: string, names: readonly string[]): Promise<RecordSet[]> {
    const sets = this.zoneOf(zone);
    return [...sets.values()].filter((r) => names.includes(r.name)).map(normalize);
  }

  async apply(zone: string, changes: readonly Change[]): Promise<void> {
    const sets = new Map(this.zoneOf(zone));
    for (const c of changes) {
      if (c.action === 'put') sets.set(recordSetKey(c.recordSet), normalize(c.recordSet));
      else sets.delete(recordSetKey(c));
    }
    this.zones.set(zone, sets);
  }

  async close(): Promise<void> {}

  private zoneOf(zone: string): Map<string, RecordSet> {
    let sets = this.zones.get(zone);
    if (!sets) {
      sets = new Map();
      this.zones.set(zone, sets);
    }
    return sets;
  }
}
