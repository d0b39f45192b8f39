// A stand-in for the Route 53 API on loopback (no AWS endpoint is reachable
// here). It checks each request's SigV4 signature, then validates it against
// the Route 53 model the installed SDK package carries (helpers/route53-*.ts)
// and refuses what Route 53 refuses, with Route 53's error codes and bodies;
// applies change batches by Route 53's documented rules; throttles on demand.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Change, type ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { errorResponse, responseXml } from './helpers/route53-respond.js';
import { applyChanges, canonicalName, checkChanges } from './helpers/route53-rules.js';
import { type Input, parseRequest, Route53Error } from './helpers/route53-validate.js';

export const CREDENTIALS = { accessKeyId: 'AKIDMERIDIANTEST', secretAccessKey: 'meridian-test-secret-key' };
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

export interface FakeRequest {
  method: string;
  path: string;
  body: string;
  /** The SDK's retry header: "attempt=N; max=M". */
  attempt: string;
  /** The error code answered, if any. */
  code?: string;
  status?: number;
  response?: string;
}

/** Record sets in ListResourceRecordSets order: by name, type, set identifier. */
const listOrder = (s: { Name?: string; Type?: string; SetIdentifier?: string }) =>
  [s.Name, s.Type, s.SetIdentifier ?? ''].join('\u0000');

/** `pageSize`: how many record sets one ListResourceRecordSets page holds (Route 53: up to 300). */
export async function startFakeRoute53(zones: Record<string, string>, pageSize = 300) {
  const store = new Map(Object.keys(zones).map((id) => [id, new Map<string, ResourceRecordSet>()]));
  const requests: FakeRequest[] = [];
  const changes = new Map<string, { polls: number; submitted: Date }>();
  let nextChange = 1;
  let throttleNext = 0;

  const noZone = (id: unknown) =>
    new Route53Error('NoSuchHostedZone', `No hosted zone found with ID: ${String(id)}`);
  const zoneSets = (id: unknown) => {
    const sets = store.get(String(id));
    if (!sets) throw noZone(id);
    return sets;
  };
  const changeInfo = (id: string) => {
    const c = changes.get(id)!;
    return { Id: `/change/${id}`, Status: c.polls > 1 ? 'INSYNC' : 'PENDING', SubmittedAt: c.submitted };
  };

  function listPage(input: Input) {
    const all = [...zoneSets(input.HostedZoneId).values()].sort((a, b) =>
      listOrder(a).localeCompare(listOrder(b)),
    );
    // API_ListResourceRecordSets: "If you specify Type but not Name, Route 53 returns the InvalidInput error."
    if (input.StartRecordType !== undefined && input.StartRecordName === undefined)
      throw new Route53Error(
        'InvalidInput',
        'The input is not valid: a record type was given without a record name',
      );
    const start = {
      Name: canonicalName(String(input.StartRecordName ?? '')),
      Type: String(input.StartRecordType ?? ''),
      SetIdentifier: String(input.StartRecordIdentifier ?? ''),
    };
    const from =
      input.StartRecordName === undefined
        ? 0
        : all.findIndex((s) => listOrder(s).localeCompare(listOrder(start)) >= 0);
    const max = Math.min(pageSize, Number(input.MaxItems ?? 300));
    const page = from < 0 ? [] : all.slice(from, from + max);
    const next = from < 0 ? undefined : all[from + max];
    return {
      ResourceRecordSets: page,
      IsTruncated: next !== undefined,
      MaxItems: max,
      NextRecordName: next?.Name,
      NextRecordType: next?.Type,
      NextRecordIdentifier: next?.SetIdentifier,
    };
  }

  const handlers: Record<string, (input: Input) => Record<string, unknown>> = {
    GetHostedZone: (input) => {
      const sets = zoneSets(input.Id);
      return {
        HostedZone: {
          Id: `/hostedzone/${input.Id}`,
          Name: canonicalName(zones[String(input.Id)]),
          CallerReference: 'meridian-stand-in',
          ResourceRecordSetCount: sets.size,
        },
      };
    },
    ListResourceRecordSets: listPage,
    ChangeResourceRecordSets: (input) => {
      const batch = (input.ChangeBatch as { Changes: Change[] }).Changes;
      checkChanges(batch);
      const sets = zoneSets(input.HostedZoneId);
      const problems = applyChanges(zones[String(input.HostedZoneId)], sets, batch);
      if (problems.length) throw new Route53Error('InvalidChangeBatch', `[${problems.join(', ')}]`);
      const id = `C${nextChange++}`;
      changes.set(id, { polls: 0, submitted: new Date() });
      return { ChangeInfo: changeInfo(id) };
    },
    GetChange: (input) => {
      const c = changes.get(String(input.Id));
      if (!c) throw new Route53Error('NoSuchChange', `A change with the specified change ID does not exist.`);
      c.polls++;
      return { ChangeInfo: changeInfo(String(input.Id)) };
    },
  };

  const answer = (req: IncomingMessage, body: Buffer, log: FakeRequest): { status: number; xml: string } => {
    const refuse = (e: Route53Error) => {
      log.code = e.code;
      const r = errorResponse(e.code, e.message, e.status === 400 ? undefined : e.status);
      return { status: r.status, xml: r.body };
    };
    const bad = checkSignature(req, body);
    if (bad)
      return refuse(
        new Route53Error(
          bad,
          'The request signature we calculated does not match the signature you provided.',
          403,
        ),
      );
    if (throttleNext > 0) {
      throttleNext--;
      return refuse(new Route53Error('Throttling', 'Rate exceeded'));
    }
    try {
      const { op, input } = parseRequest(req.method ?? '', req.url ?? '/', body.toString());
      const handler = handlers[op.name];
      if (!handler)
        throw new Route53Error('NotImplemented', `the stand-in does not implement ${op.name}`, 501);
      return { status: 200, xml: responseXml(op, handler(input)) };
    } catch (e) {
      if (e instanceof Route53Error) return refuse(e);
      throw e;
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const log: FakeRequest = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        body: body.toString(),
        attempt: String(req.headers['amz-sdk-request'] ?? ''),
      };
      requests.push(log);
      const { status, xml } = answer(req, body, log);
      log.status = status;
      log.response = xml;
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    records: (zoneId: string) =>
      [...(store.get(zoneId)?.values() ?? [])].sort((a, b) => listOrder(a).localeCompare(listOrder(b))),
    /** The next `n` requests are refused with Route 53's Throttling error. */
    throttle: (n: number) => {
      throttleNext = n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A stand-in holding `zones` and an SDK client of it (no retries), both closed after the test. */
export async function fakeWithClient(t: { after(fn: () => unknown): void }, zones: Record<string, string>) {
  const fake = await startFakeRoute53(zones);
  const client = new Route53Client({
    region: 'us-east-1',
    endpoint: fake.endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  t.after(async () => {
    client.destroy();
    await fake.close();
  });
  return { fake, client };
}
