// A stand-in for the Route 53 API on loopback (no AWS endpoint is reachable
// here). It checks each request's SigV4 signature, parses the XML the SDK
// sends, applies change batches with Route 53's rules (DELETE must match
// exactly; a name and type cannot mix routing policies) and answers with
// responses shaped as Route 53's documented ones.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CREDENTIALS = { accessKeyId: 'AKIDMERIDIANTEST', secretAccessKey: 'meridian-test-secret-key' };
const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface FakeRecordSet {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Weight?: number;
  GeoLocation?: Record<string, string>;
  TTL?: number;
  Values: string[];
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Recomputes the SigV4 signature (independently of the SDK) and says what is wrong, or null. */
export function checkSignature(req: IncomingMessage, body: Buffer): string | null {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/route53\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  if (!auth) return 'IncompleteSignature';
  const [, keyId, date, region, signed, signature] = auth;
  if (keyId !== CREDENTIALS.accessKeyId) return 'InvalidClientTokenId';
  const url = new URL(req.url ?? '/', 'http://x');
  const query = [...url.searchParams]
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .sort()
    .join('&');
  const headers = signed
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, url.pathname, query, headers, signed, sha256(body)].join('\n');
  const scope = `${date}/${region}/route53/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), scope, sha256(canonical)].join('\n');
  const key = ['aws4_request'].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date), region), 'route53'),
  );
  return hmac(key, toSign).toString('hex') === signature ? null : 'SignatureDoesNotMatch';
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
const unxml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function parseSet(x: string): FakeRecordSet {
  const geo = tag(x, 'GeoLocation');
  const set: FakeRecordSet = {
    Name: unxml(tag(x, 'Name') ?? ''),
    Type: tag(x, 'Type') ?? '',
    Values: tags(x, 'Value').map(unxml),
  };
  if (tag(x, 'SetIdentifier') !== undefined) set.SetIdentifier = unxml(tag(x, 'SetIdentifier')!);
  if (tag(x, 'Weight') !== undefined) set.Weight = Number(tag(x, 'Weight'));
  if (tag(x, 'TTL') !== undefined) set.TTL = Number(tag(x, 'TTL'));
  if (geo) {
    set.GeoLocation = {};
    for (const k of ['ContinentCode', 'CountryCode', 'SubdivisionCode'])
      if (tag(geo, k)) set.GeoLocation[k] = tag(geo, k)!;
  }
  return set;
}

function setXml(s: FakeRecordSet): string {
  const geo = s.GeoLocation
    ? `<GeoLocation>${Object.entries(s.GeoLocation)
        .map(([k, v]) => `<${k}>${v}</${k}>`)
        .join('')}</GeoLocation>`
    : '';
  return `<ResourceRecordSet><Name>${xml(s.Name)}</Name><Type>${s.Type}</Type>${s.SetIdentifier !== undefined ? `<SetIdentifier>${xml(s.SetIdentifier)}</SetIdentifier>` : ''}${s.Weight !== undefined ? `<Weight>${s.Weight}</Weight>` : ''}${geo}<TTL>${s.TTL}</TTL><ResourceRecords>${s.Values.map((v) => `<ResourceRecord><Value>${xml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`;
}

const policy = (s: FakeRecordSet) => (s.GeoLocation ? 'geo' : s.Weight !== undefined ? 'weighted' : 'simple');
const keyOf = (s: FakeRecordSet) => `${s.Name}|${s.Type}|${s.SetIdentifier ?? ''}`;

/** One page of ListResourceRecordSets, in (name, type, set identifier) order, from the request's start. */
function listPage(sets: Iterable<FakeRecordSet>, query: URLSearchParams, pageSize: number): string {
  const key = (s: { Name: string; Type: string; SetIdentifier?: string }) =>
    [s.Name, s.Type, s.SetIdentifier ?? ''].join('\u0000');
  const all = [...sets].sort((a, b) => key(a).localeCompare(key(b)));
  const start = {
    Name: query.get('name') ?? '',
    Type: query.get('type') ?? '',
    SetIdentifier: query.get('identifier') ?? '',
  };
  const from = query.has('name') ? all.findIndex((s) => key(s).localeCompare(key(start)) >= 0) : 0;
  const max = Math.min(pageSize, Number(query.get('maxitems') ?? 300));
  const page = from < 0 ? [] : all.slice(from, from + max);
  const next = from < 0 ? undefined : all[from + max];
  const more = next
    ? `<IsTruncated>true</IsTruncated><NextRecordName>${xml(next.Name)}</NextRecordName><NextRecordType>${next.Type}</NextRecordType>${next.SetIdentifier !== undefined ? `<NextRecordIdentifier>${xml(next.SetIdentifier)}</NextRecordIdentifier>` : ''}`
    : '<IsTruncated>false</IsTruncated>';
  return `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${page.map(setXml).join('')}</ResourceRecordSets>${more}<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`;
}

/** `pageSize`: how many record sets one ListResourceRecordSets page holds (Route 53: up to 300). */
export async function startFakeRoute53(zones: Record<string, string>, pageSize = 300) {
  const store = new Map(Object.keys(zones).map((id) => [id, new Map<string, FakeRecordSet>()]));
  const requests: { method: string; path: string; body: string }[] = [];
  const changes = new Map<string, number>();
  let nextChange = 1;

  const error = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(
      `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
    );
  };
  const ok = (res: ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  };
  const changeInfo = (id: string, status: string) =>
    `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo>`;

  function applyBatch(sets: Map<string, FakeRecordSet>, body: string): string | null {
    const next = new Map(sets);
    for (const c of tags(body, 'Change')) {
      const action = tag(c, 'Action');
      const s = parseSet(tag(c, 'ResourceRecordSet') ?? '');
      const old = next.get(keyOf(s));
      if (action === 'DELETE') {
        if (!old || JSON.stringify(old) !== JSON.stringify(s))
          return `Tried to delete resource record set [name='${s.Name}', type='${s.Type}'] but the values provided do not match the current values`;
        next.delete(keyOf(s));
      } else if (action === 'CREATE' && old)
        return `Tried to create resource record set [name='${s.Name}'] but it already exists`;
      else next.set(keyOf(s), s);
    }
    for (const s of next.values()) {
      const clash = [...next.values()].find(
        (o) => o.Name === s.Name && o.Type === s.Type && policy(o) !== policy(s),
      );
      if (clash) return `RRSet ${s.Name} ${s.Type} mixes ${policy(s)} and ${policy(clash)} routing`;
    }
    sets.clear();
    for (const [k, v] of next) sets.set(k, v);
    return null;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({ method: req.method ?? '', path, body: body.toString() });
      const bad = checkSignature(req, body);
      if (bad)
        return error(
          res,
          403,
          bad,
          'The request signature we calculated does not match the signature you provided.',
        );
      const m = /^\/2013-04-01\/(hostedzone|change)\/([^/]+)(\/rrset\/?)?$/.exec(path);
      if (m?.[1] === 'change') {
        const polls = (changes.get(m[2]) ?? 0) + 1;
        changes.set(m[2], polls);
        return ok(
          res,
          `<GetChangeResponse xmlns="${NS}">${changeInfo(m[2], polls > 1 ? 'INSYNC' : 'PENDING')}</GetChangeResponse>`,
        );
      }
      const sets = m ? store.get(m[2]) : undefined;
      if (!m || !sets) return error(res, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${m?.[2]}`);
      if (!m[3])
        return ok(
          res,
          `<GetHostedZoneResponse xmlns="${NS}"><HostedZone><Id>/hostedzone/${m[2]}</Id><Name>${zones[m[2]]}.</Name><CallerReference>fake</CallerReference><ResourceRecordSetCount>${sets.size}</ResourceRecordSetCount></HostedZone></GetHostedZoneResponse>`,
        );
      if (req.method === 'GET')
        return ok(res, listPage(sets.values(), new URL(req.url ?? '/', 'http://x').searchParams, pageSize));
      const problem = applyBatch(sets, body.toString());
      if (problem) return error(res, 400, 'InvalidChangeBatch', problem);
      const id = `C${nextChange++}`;
      return ok(
        res,
        `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo(id, 'PENDING')}</ChangeResourceRecordSetsResponse>`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    records: (zoneId: string) => [...(store.get(zoneId)?.values() ?? [])],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
