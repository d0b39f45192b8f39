import { MeridianError } from '../errors.js';
import { POWERDNS_CAPABILITIES } from './capabilities.js';
import {
  type Change,
  type DnsProvider,
  normalize,
  type RecordSet,
  type RecordType,
  recordSetKey,
} from './model.js';
import { luaContent, parseLuaContent } from './powerdns-lua.js';

export interface PowerDnsOptions {
  apiUrl: string;
  apiKey: string;
  serverId?: string;
  timeoutMs?: number;
}

interface PdnsRrset {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled: boolean }[];
}

const PLAIN_TYPES = new Set<string>(POWERDNS_CAPABILITIES.types);
const dot = (name: string) => `${name}.`;
const undot = (name: string) => name.replace(/\.$/, '').toLowerCase();

function fromContent(type: string, content: string): string {
  if (type === 'TXT') return content.replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1');
  if (type === 'CNAME') return undot(content);
  if (type === 'MX') return content.replace(/\.$/, '').toLowerCase();
  return content;
}

function toContent(type: RecordType, value: string): string {
  if (type === 'TXT') return `"${value.replace(/(["\\])/g, '\\$1')}"`;
  if (type === 'CNAME' || type === 'MX') return dot(value);
  return value;
}

/** PowerDNS Authoritative through its HTTP API (/api/v1). */
export class PowerDnsProvider implements DnsProvider {
  readonly name = 'powerdns';
  readonly capabilities = POWERDNS_CAPABILITIES;
  private readonly base: string;

  constructor(private readonly options: PowerDnsOptions) {
    const server = encodeURIComponent(options.serverId ?? 'localhost');
    this.base = `${options.apiUrl.replace(/\/+$/, '')}/api/v1/servers/${server}/zones`;
  }

  async list(zone: string, names: readonly string[]): Promise<RecordSet[]> {
    const body = (await this.call('GET', zone)) as { rrsets: PdnsRrset[] };
    const wanted = new Set(names);
    const out: RecordSet[] = [];
    for (const rr of body.rrsets) {
      const name = undot(rr.name);
      if (!wanted.has(name)) continue;
      const enabled = rr.records.filter((r) => !r.disabled);
      if (rr.type === 'LUA') {
        for (const r of enabled) out.push(...(parseLuaContent(name, r.content) ?? []));
      } else if (PLAIN_TYPES.has(rr.type) && enabled.length > 0) {
        const records = enabled.map((r) => fromContent(rr.type, r.content));
        out.push(normalize({ name, type: rr.type as RecordType, ttl: rr.ttl, records }));
      }
    }
    return out.map(normalize);
  }

  async apply(zone: string, changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const touched = [...new Set(changes.map((c) => (c.action === 'put' ? c.recordSet.name : c.name)))];
    // The LUA record of a name holds every profiled set of that name: rebuild it from the whole name.
    const sets = new Map((await this.list(zone, touched)).map((r) => [recordSetKey(r), r]));
    for (const c of changes) {
      if (c.action === 'put') sets.set(recordSetKey(c.recordSet), c.recordSet);
      else sets.delete(recordSetKey(c));
    }
    const rrsets: object[] = [];
    for (const name of touched) {
      const mine = [...sets.values()].filter((r) => r.name === name);
      const types = new Set(
        changes
          .filter((c) => (c.action === 'put' ? c.recordSet.name : c.name) === name)
          .map((c) => (c.action === 'put' ? c.recordSet.type : c.type)),
      );
      for (const type of types) {
        const plain = mine.find((r) => r.type === type && !r.profile);
        rrsets.push(
          plain
            ? {
                name: dot(name),
                type,
                ttl: plain.ttl,
                changetype: 'REPLACE',
                records: plain.records.map((v) => ({ content: toContent(type, v), disabled: false })),
              }
            : { name: dot(name), type, changetype: 'DELETE' },
        );
      }
      const profiled = mine.filter((r) => r.profile);
      const luaTypes = [...new Set(profiled.map((r) => r.type))];
      rrsets.push(
        luaTypes.length > 0
          ? {
              name: dot(name),
              type: 'LUA',
              ttl: Math.min(...profiled.map((r) => r.ttl)),
              changetype: 'REPLACE',
              records: luaTypes.map((t) => ({
                content: luaContent(
                  t,
                  profiled.filter((r) => r.type === t),
                ),
                disabled: false,
              })),
            }
          : { name: dot(name), type: 'LUA', changetype: 'DELETE' },
      );
    }
    await this.call('PATCH', zone, { rrsets });
  }

  async close(): Promise<void> {}

  private async call(method: string, zone: string, body?: unknown): Promise<unknown> {
    const url = `${this.base}/${encodeURIComponent(dot(zone))}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'X-API-Key': this.options.apiKey, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (e as Error).message;
      throw new MeridianError(
        'PROVIDER_UNREACHABLE',
        `cannot reach the PowerDNS API at ${this.options.apiUrl}: ${cause}`,
      );
    }
    const text = await res.text();
    let json: { error?: string } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status === 401 || res.status === 403)
      throw new MeridianError('PROVIDER_AUTH', `PowerDNS rejected the API key (HTTP ${res.status})`);
    if (res.status === 404 || (res.status === 422 && /could not find/i.test(json?.error ?? '')))
      throw new MeridianError(
        'PROVIDER_ZONE_MISSING',
        `PowerDNS server ${this.options.serverId ?? 'localhost'} has no zone ${zone}`,
      );
    if (!res.ok)
      throw new MeridianError('PROVIDER_FAILED', `PowerDNS ${method} ${zone}: HTTP ${res.status}`, [
        json?.error ?? text.slice(0, 300),
      ]);
    return json;
  }
}
