import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { MeridianError } from '../errors.js';
import { RFC2136_CAPABILITIES } from './capabilities.js';
import { exchangeTcp } from './dns-tcp.js';
import { type Change, type DnsProvider, normalize, type RecordSet, type RecordType } from './model.js';
import { replyStatus, type UpdateOp, updateMessage } from './rfc2136-message.js';
import { TSIG_ALGORITHMS, type TsigKey } from './tsig.js';

export interface Rfc2136Options {
  /** "127.0.0.1:53", "[::1]:5353" or a host name with a port. */
  server: string;
  tsig: TsigKey;
  timeoutMs?: number;
}

const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

export function parseServer(text: string): { host: string; port: number } {
  const m =
    /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text) ?? /^([^:]+|\[[^\]]+\])$/.exec(text);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new MeridianError('BAD_ARGUMENT', `--server expects ADDR:PORT such as 127.0.0.1:53, got "${text}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function presentation(type: RecordType, data: unknown): string {
  if (type === 'TXT') return (data as Buffer[]).map((b) => b.toString('utf8')).join('');
  if (type === 'MX') {
    const mx = data as { preference: number; exchange: string };
    return `${mx.preference} ${mx.exchange.toLowerCase()}`;
  }
  if (type === 'CNAME') return String(data).toLowerCase();
  return String(data);
}

/** BIND 9, Knot and any RFC 2136 server: dynamic updates signed with TSIG. */
export class Rfc2136Provider implements DnsProvider {
  readonly name = 'rfc2136';
  readonly capabilities = RFC2136_CAPABILITIES;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly options: Rfc2136Options) {
    ({ host: this.host, port: this.port } = parseServer(options.server));
    if (!TSIG_ALGORITHMS[options.tsig.algorithm])
      throw new MeridianError('BAD_ARGUMENT', `unknown TSIG algorithm "${options.tsig.algorithm}"`, [
        `known: ${Object.keys(TSIG_ALGORITHMS).join(', ')}`,
      ]);
    if (!options.tsig.name || !options.tsig.secret)
      throw new MeridianError('BAD_ARGUMENT', 'rfc2136 needs --tsig-name and --tsig-secret');
  }

  async list(zone: string, names: readonly string[]): Promise<RecordSet[]> {
    const soa = await this.query(zone, 'SOA');
    const authoritative = soa.rcode === 'NOERROR' && (soa.flags & dnsPacket.AUTHORITATIVE_ANSWER) !== 0;
    if (!authoritative || !soa.answers?.some((a) => a.type === 'SOA' && a.name.toLowerCase() === zone))
      throw new MeridianError(
        'PROVIDER_ZONE_MISSING',
        `${this.options.server} is not authoritative for ${zone} (${soa.rcode})`,
      );
    const out: RecordSet[] = [];
    for (const name of names) {
      for (const type of this.capabilities.types) {
        const res = await this.query(name, type);
        const answers = (res.answers ?? []).filter((a) => a.type === type && a.name.toLowerCase() === name);
        if (answers.length === 0) continue;
        const records = answers.map((a) => presentation(type, (a as { data: unknown }).data));
        out.push(
          normalize({
            name,
            type,
            ttl: (answers[0] as { ttl?: number }).ttl ?? 0,
            records: [...new Set(records)],
          }),
        );
      }
    }
    return out;
  }

  async apply(zone: string, changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const ops: UpdateOp[] = [];
    for (const c of changes) {
      if (c.action === 'delete') {
        ops.push({ op: 'delete', name: c.name, type: c.type });
        continue;
      }
      const r = c.recordSet;
      if (r.profile || r.qualifier)
        throw new MeridianError(
          'PROVIDER_UNSUPPORTED',
          `rfc2136 holds plain records only; ${r.name} ${r.type} has a ${r.profile?.kind ?? 'qualified'} profile`,
        );
      ops.push({ op: 'delete', name: r.name, type: r.type });
      for (const value of r.records) ops.push({ op: 'add', name: r.name, type: r.type, ttl: r.ttl, value });
    }
    // One message: the server applies all of it or none of it (RFC 2136 section 3.4).
    const { message, mac } = updateMessage(zone, ops, this.options.tsig);
    const reply = await exchangeTcp(this.host, this.port, message, this.options.timeoutMs);
    const status = replyStatus(reply, this.options.tsig, mac);
    if (!status)
      throw new MeridianError(
        'PROVIDER_FAILED',
        `${this.options.server} answered the update of ${zone} with a message that does not parse`,
        ['the update may or may not have been applied; run the sync again to see'],
      );
    const { rcode, tsigError, signed } = status;
    if (rcode === 'NOERROR' && !signed) {
      throw new MeridianError(
        'PROVIDER_FAILED',
        `${this.options.server} answered the update of ${zone} with a reply whose TSIG signature does not verify`,
        ['the update may or may not have been applied; run the sync again to see'],
      );
    }
    if (rcode === 'NOERROR') return;
    const what = `${this.options.server} refused the update of ${zone}`;
    if (tsigError && TSIG_ERRORS[tsigError])
      throw new MeridianError(
        'PROVIDER_AUTH',
        `${what}: TSIG key ${this.options.tsig.name} rejected (${TSIG_ERRORS[tsigError]})`,
      );
    if (rcode === 'REFUSED')
      throw new MeridianError('PROVIDER_FAILED', `${what}: REFUSED`, [
        "the key may not update these names, or the server's own checks (BIND check-integrity, for one) refused the records; see its log",
      ]);
    if (rcode === 'NOTAUTH' || rcode === 'NOTZONE')
      throw new MeridianError('PROVIDER_ZONE_MISSING', `${what}: ${rcode} (not a zone it is primary for)`);
    throw new MeridianError('PROVIDER_FAILED', `${what}: ${rcode}`);
  }

  async close(): Promise<void> {}

  private async query(name: string, type: RecordType | 'SOA') {
    const msg = dnsPacket.encode({
      type: 'query',
      id: randomInt(0, 0x10000),
      flags: 0,
      questions: [{ type, name, class: 'IN' }],
    });
    const reply = await exchangeTcp(this.host, this.port, msg, this.options.timeoutMs);
    return dnsPacket.decode(reply) as dnsPacket.DecodedPacket & { rcode: string; flags: number };
  }
}
