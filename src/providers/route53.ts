import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type Change as R53Change,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { MeridianError } from '../errors.js';
import { ROUTE53_CAPABILITIES } from './capabilities.js';
import {
  type Change,
  type DnsProvider,
  normalize,
  type RecordSet,
  type RecordType,
  recordSetKey,
} from './model.js';

export interface Route53Options {
  hostedZoneId: string;
  /** Another endpoint than AWS's (tests, API-compatible services). */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
  /** How long to wait for a change to be INSYNC, and how often to ask. */
  insyncTimeoutMs?: number;
  pollMs?: number;
}

const PLAIN_TYPES = new Set<string>(ROUTE53_CAPABILITIES.types);
const dot = (n: string) => `${n}.`;
const undot = (n: string) => n.replace(/\.$/, '').replace(/\\052/g, '*').toLowerCase();

function toValue(type: RecordType, v: string): string {
  if (type === 'TXT') return `"${v.replace(/(["\\])/g, '\\$1')}"`;
  return type === 'CNAME' || type === 'MX' ? dot(v) : v;
}
function fromValue(type: string, v: string): string {
  if (type === 'TXT') return v.replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1');
  return type === 'CNAME' || type === 'MX' ? undot(v) : v;
}

function territoryOf(g: NonNullable<ResourceRecordSet['GeoLocation']>): string {
  if (g.CountryCode === '*') return '*';
  if (g.SubdivisionCode) return `${g.CountryCode}-${g.SubdivisionCode}`;
  return g.CountryCode ?? (g.ContinentCode ? `continent:${g.ContinentCode}` : '*');
}
function geoLocation(code: string): ResourceRecordSet['GeoLocation'] {
  if (code === '*') return { CountryCode: '*' };
  const [country, sub] = code.split('-');
  return sub ? { CountryCode: country, SubdivisionCode: sub } : { CountryCode: country };
}

/** A Meridian record set as Route 53 record sets: a geo set becomes one per territory ("qualifier/CODE"). */
export function toRoute53(r: RecordSet): ResourceRecordSet[] {
  const base = {
    Name: dot(r.name),
    Type: r.type,
    TTL: r.ttl,
    ResourceRecords: r.records.map((v) => ({ Value: toValue(r.type, v) })),
  };
  if (r.profile?.kind === 'weighted')
    return [{ ...base, SetIdentifier: r.qualifier, Weight: r.profile.weight }];
  if (r.profile?.kind === 'geo')
    return r.profile.territories.map((code) => ({
      ...base,
      SetIdentifier: `${r.qualifier}/${code}`,
      GeoLocation: geoLocation(code),
    }));
  return [base];
}

/** Route 53 record sets back into Meridian's: geo sets of one qualifier are joined again. */
export function fromRoute53(sets: readonly ResourceRecordSet[]): RecordSet[] {
  const out = new Map<string, RecordSet>();
  for (const s of sets) {
    if (!s.Name || !s.Type || !PLAIN_TYPES.has(s.Type) || !s.ResourceRecords) continue;
    const type = s.Type as RecordType;
    const base = {
      name: undot(s.Name),
      type,
      ttl: s.TTL ?? 0,
      records: s.ResourceRecords.map((r) => fromValue(type, r.Value ?? '')),
    };
    if (s.GeoLocation) {
      const id = s.SetIdentifier ?? '';
      const qualifier = id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : id;
      const set: RecordSet = { ...base, qualifier, profile: { kind: 'geo', territories: [] } };
      const existing = out.get(recordSetKey(set)) ?? set;
      if (existing.profile?.kind === 'geo') existing.profile.territories.push(territoryOf(s.GeoLocation));
      // Territories that disagree (changed behind Meridian's back) must not read as in sync:
      // every value any of them answers, and no TTL when theirs differ (-1 equals no desired TTL).
      existing.records = [...new Set([...existing.records, ...base.records])];
      if (existing.ttl !== base.ttl) existing.ttl = -1;
      out.set(recordSetKey(set), existing);
    } else if (s.Weight !== undefined) {
      const set: RecordSet = {
        ...base,
        qualifier: s.SetIdentifier,
        profile: { kind: 'weighted', weight: s.Weight },
      };
      out.set(recordSetKey(set), set);
    } else if (!s.SetIdentifier) {
      out.set(recordSetKey(base), base);
    }
  }
  return [...out.values()].map(normalize);
}

const AUTH_ERRORS = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ExpiredToken',
  'CredentialsProviderError',
]);

function translate(e: unknown, what: string, hostedZoneId: string): MeridianError {
  const err = e as Error & { name: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (err instanceof MeridianError) return err;
  if (AUTH_ERRORS.has(err.name))
    return new MeridianError('PROVIDER_AUTH', `Route 53 rejected the credentials (${err.name})`, [
      err.message,
    ]);
  if (err.name === 'NoSuchHostedZone')
    return new MeridianError('PROVIDER_ZONE_MISSING', `Route 53 has no hosted zone ${hostedZoneId}`);
  if (err.name === 'InvalidChangeBatch' || err.name === 'InvalidInput')
    return new MeridianError('PROVIDER_FAILED', `Route 53 refused the change batch (${err.name})`, [
      err.message,
    ]);
  if (!err.$metadata?.httpStatusCode)
    return new MeridianError(
      'PROVIDER_UNREACHABLE',
      `cannot reach Route 53 to ${what}: ${err.code ?? err.name}: ${err.message}`,
    );
  return new MeridianError(
    'PROVIDER_FAILED',
    `Route 53 ${what}: ${err.name} (HTTP ${err.$metadata.httpStatusCode})`,
    [err.message],
  );
}

/** Amazon Route 53 through the AWS SDK v3. */
export class Route53Provider implements DnsProvider {
  readonly name = 'route53';
  readonly capabilities = ROUTE53_CAPABILITIES;
  private readonly client: Route53Client;

  constructor(private readonly options: Route53Options) {
    if (!options.hostedZoneId) throw new MeridianError('BAD_ARGUMENT', 'route53 needs --hosted-zone-id');
    this.client = new Route53Client({
      region: 'us-east-1',
      endpoint: options.endpoint,
      credentials: options.credentials,
      // The SDK's standard strategy retries Throttling and PriorRequestNotComplete (Route 53's
      // rate limits) with jittered exponential backoff from 1 s; pinned so that AWS_RETRY_MODE
      // or a profile cannot change it under Meridian.
      retryMode: 'standard',
      maxAttempts: options.maxAttempts ?? 3,
    });
  }

  async list(zone: string, names: readonly string[]): Promise<RecordSet[]> {
    return fromRoute53(await this.raw(zone, names));
  }

  async apply(zone: string, changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const touched = changes.map((c) => (c.action === 'put' ? c.recordSet.name : c.name));
    const existing = await this.raw(zone, touched);
    const keyOf = (s: ResourceRecordSet) => `${s.Name}|${s.Type}|${s.SetIdentifier ?? ''}`;
    const deletes = new Map<string, ResourceRecordSet>();
    const upserts = new Map<string, ResourceRecordSet>();
    for (const c of changes) {
      const target = c.action === 'put' ? c.recordSet : c;
      // Every Route 53 set behind this Meridian set goes, except the ones the put writes again.
      for (const s of existing) {
        const [mine] = fromRoute53([s]);
        if (mine && recordSetKey(mine) === recordSetKey(target)) deletes.set(keyOf(s), s);
      }
      if (c.action === 'put') for (const s of toRoute53(c.recordSet)) upserts.set(keyOf(s), s);
    }
    for (const k of upserts.keys()) deletes.delete(k);
    // Deletes first: Route 53 refuses a plain and a weighted set of one name and type side by side.
    const batch: R53Change[] = [
      ...[...deletes.values()].map((s) => ({ Action: 'DELETE' as const, ResourceRecordSet: s })),
      ...[...upserts.values()].map((s) => ({ Action: 'UPSERT' as const, ResourceRecordSet: s })),
    ];
    // Nothing left to change (a delete of sets already gone): Route 53 refuses an empty Changes list.
    if (batch.length === 0) return;
    // Route 53 takes at most 1000 changes per batch; splitting would lose atomicity, so refuse instead.
    if (batch.length > 1000) {
      throw new MeridianError(
        'PROVIDER_UNSUPPORTED',
        `route53: ${batch.length} changes do not fit one change batch (1000 at most)`,
        [
          'geo steering writes one record set per territory and type; map fewer territories or use weighted steering',
        ],
      );
    }
    let changeId: string | undefined;
    try {
      const out = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.options.hostedZoneId,
          ChangeBatch: { Comment: `meridian sync of ${zone}`, Changes: batch },
        }),
      );
      changeId = out.ChangeInfo?.Id;
      if (out.ChangeInfo?.Status === 'INSYNC' || !changeId) return;
      const deadline = Date.now() + (this.options.insyncTimeoutMs ?? 120_000);
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, this.options.pollMs ?? 2000));
        const got = await this.client.send(new GetChangeCommand({ Id: changeId }));
        if (got.ChangeInfo?.Status === 'INSYNC') return;
      }
    } catch (e) {
      throw translate(e, 'change record sets', this.options.hostedZoneId);
    }
    throw new MeridianError(
      'PROVIDER_FAILED',
      `Route 53 change ${changeId} was not INSYNC in time; it is applied but may not be on every server yet`,
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async raw(zone: string, names: readonly string[]): Promise<ResourceRecordSet[]> {
    const wanted = new Set(names);
    try {
      const hz = await this.client.send(new GetHostedZoneCommand({ Id: this.options.hostedZoneId }));
      const hzName = undot(hz.HostedZone?.Name ?? '');
      if (hzName !== zone)
        throw new MeridianError(
          'PROVIDER_ZONE_MISSING',
          `Route 53 hosted zone ${this.options.hostedZoneId} is ${hzName}, not ${zone}`,
        );
      const out: ResourceRecordSet[] = [];
      let start: {
        StartRecordName?: string;
        StartRecordType?: ResourceRecordSet['Type'];
        StartRecordIdentifier?: string;
      } = {};
      for (;;) {
        const page = await this.client.send(
          new ListResourceRecordSetsCommand({ HostedZoneId: this.options.hostedZoneId, ...start }),
        );
        out.push(...(page.ResourceRecordSets ?? []).filter((s) => wanted.has(undot(s.Name ?? ''))));
        if (!page.IsTruncated) return out;
        start = {
          StartRecordName: page.NextRecordName,
          StartRecordType: page.NextRecordType,
          StartRecordIdentifier: page.NextRecordIdentifier,
        };
      }
    } catch (e) {
      throw translate(e, 'list record sets', this.options.hostedZoneId);
    }
  }
}
