// Geo and weighted record sets on PowerDNS become one LUA record per type.
// The record sets themselves ride along in a Lua comment so that reading the
// zone back gives exactly what was put (the Lua is generated, never parsed).
import type { RecordSet, RecordType } from './model.js';

const MARKER = /^;--\[\[meridian:([A-Za-z0-9_-]+)\]\]/;

type Stored = Omit<RecordSet, 'name' | 'type'>;

const quote = (s: string) => `'${s.replace(/[^0-9A-Za-z.:-]/g, '')}'`;
const list = (records: string[]) => `{${records.map(quote).join(',')}}`;

function condition(territories: string[]): string {
  return territories
    .map((code) => {
      const [country, sub] = code.split('-');
      return sub ? `(country('${country}') and region('${sub}'))` : `country('${country}')`;
    })
    .join(' or ');
}

/** The Lua that answers as the record sets say (PowerDNS `enable-lua-records`). */
export function luaContent(type: RecordType, sets: readonly RecordSet[]): string {
  const stored: Stored[] = sets.map(({ name: _n, type: _t, ...rest }) => rest);
  const tag = Buffer.from(JSON.stringify(stored)).toString('base64url');
  const parts: string[] = [];
  let fallback = 'return {}';
  for (const s of sets) {
    if (s.profile?.kind !== 'geo') continue;
    const codes = s.profile.territories.filter((t) => t !== '*');
    if (s.profile.territories.includes('*')) fallback = `return ${list(s.records)}`;
    if (codes.length > 0) parts.push(`if ${condition(codes)} then return ${list(s.records)} end`);
  }
  const weighted = sets.filter((s) => s.profile?.kind === 'weighted');
  if (weighted.length > 0) {
    const pairs = weighted.flatMap((s) =>
      s.records.map((r) => `{${s.profile?.kind === 'weighted' ? s.profile.weight : 1},${quote(r)}}`),
    );
    fallback = `return pickwrandom({${pairs.join(',')}})`;
  }
  return `${type} ";--[[meridian:${tag}]] ${[...parts, fallback].join(' ')}"`;
}

/** The record sets behind a LUA record Meridian wrote; null for someone else's LUA record. */
export function parseLuaContent(name: string, content: string): RecordSet[] | null {
  const m = /^([A-Z]+) "(.*)"$/s.exec(content);
  if (!m) return null;
  const tag = MARKER.exec(m[2]);
  if (!tag) return null;
  try {
    const stored = JSON.parse(Buffer.from(tag[1], 'base64url').toString('utf8')) as Stored[];
    return stored.map((s) => ({ name, type: m[1] as RecordType, ...s }));
  } catch {
    return null;
  }
}
