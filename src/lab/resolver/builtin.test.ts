import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { BuiltinResolver } from './builtin.js';

interface Authority {
  port: number;
  /** The client subnets of the queries it received ("-" for none). */
  asked: string[];
  close(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

type Ecs = { family: number; sourcePrefixLength: number; scopePrefixLength?: number; ip: string };
const ecsOf = (p: dnsPacket.Packet): Ecs | undefined =>
  ((p.additionals ?? []).find((r) => r.type === 'OPT') as dnsPacket.OptAnswer | undefined)?.options?.find(
    (o) => o.code === 8,
  ) as Ecs | undefined;

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/**
 * A tiny authoritative server: api.example.com A is 10.0.0.N where N is the third byte of the
 * client subnet (ECS scope /24), `ttl` seconds; other names NXDOMAIN with an SOA; silent if asked.
 */
async function authority(o: { ttl: number; silent?: boolean }): Promise<Authority> {
  const s = await bound();
  const asked: string[] = [];
  s.on('message', (msg, peer) => {
    const q = dnsPacket.decode(msg);
    const ecs = ecsOf(q);
    asked.push(ecs ? `${ecs.ip}/${ecs.sourcePrefixLength}` : '-');
    if (o.silent) return;
    const name = q.questions![0].name;
    const known = name === 'api.example.com';
    const response: dnsPacket.Packet = {
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
      questions: q.questions,
      answers: known
        ? [{ type: 'A', name, ttl: o.ttl, data: `10.0.0.${ecs ? ecs.ip.split('.')[2] : 0}` }]
        : [],
      authorities: known
        ? []
        : [
            {
              type: 'SOA',
              name: 'example.com',
              ttl: 60,
              data: {
                mname: 'ns1.example.com',
                rname: 'hostmaster.example.com',
                serial: 1,
                refresh: 3600,
                retry: 600,
                expire: 86400,
                minimum: o.ttl,
              },
            },
          ],
      additionals: ecs
        ? ([
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: 1232,
              options: [
                {
                  code: 'CLIENT_SUBNET',
                  family: ecs.family,
                  sourcePrefixLength: ecs.sourcePrefixLength,
                  scopePrefixLength: 24,
                  ip: ecs.ip,
                },
              ],
            },
          ] as unknown as dnsPacket.Answer[])
        : [],
    };
    s.send(dnsPacket.encode(response), peer.port, peer.address);
  });
  const a: Authority = {
    port: s.address().port,
    asked,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
  open.push(a);
  return a;
}

/** A port nothing listens on: the kernel answers with ICMP port unreachable. */
async function closedPort(): Promise<number> {
  const s = await bound();
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function resolver(ports: number[], more: { maxEntries?: number; timeoutMs?: number } = {}) {
  const r = await BuiltinResolver.start({
    nameservers: ports.map((port, i) => ({ name: `ns${i}`, address: '127.0.0.1', port })),
    ...more,
  });
  open.push(r);
  return r;
}

/** One query with the given client subnet; the decoded response. */
async function ask(r: BuiltinResolver, subnet: string | null, name = 'api.example.com') {
  const s = await bound();
  const [ip, len] = (subnet ?? '').split('/');
  const query = dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        options: subnet ? [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: Number(len), ip }] : [],
      } as unknown as dnsPacket.Answer,
    ],
  });
  try {
    return await new Promise<dnsPacket.Packet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
      s.once('message', (m) => {
        clearTimeout(timer);
        resolve(dnsPacket.decode(m));
      });
      s.send(query, r.port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

const addresses = (p: dnsPacket.Packet) => (p.answers ?? []).map((a) => (a as dnsPacket.StringAnswer).data);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('passes the client subnet on, cut to /24, and caches per subnet', async () => {
  const auth = await authority({ ttl: 60 });
  const r = await resolver([auth.port]);
  const one = await ask(r, '198.51.7.99/32');
  assert.deepEqual(addresses(one), ['10.0.0.7']);
  assert.equal(one.id, 4242);
  assert.equal((one as { rcode?: string }).rcode, 'NOERROR');
  assert.deepEqual(auth.asked, ['198.51.7.0/24'], 'a /32 goes on as its /24');
  assert.equal(ecsOf(one)?.scopePrefixLength, 24, 'the server scope comes back');
  assert.deepEqual(addresses(await ask(r, '198.51.8.0/24')), ['10.0.0.8']);
  assert.deepEqual(addresses(await ask(r, '198.51.7.0/24')), ['10.0.0.7']);
  assert.equal(auth.asked.length, 2, 'the third query was answered from the cache');
  assert.equal(r.stats.cacheHits, 1);
});

test('keeps an answer for its TTL, counting it down, then asks again', async () => {
  const auth = await authority({ ttl: 1 });
  const r = await resolver([auth.port]);
  await ask(r, '192.0.2.0/24');
  const cached = await ask(r, '192.0.2.0/24');
  assert.equal(auth.asked.length, 1);
  assert.ok(((cached.answers![0] as { ttl?: number }).ttl ?? 9) <= 1);
  await sleep(1100);
  await ask(r, '192.0.2.0/24');
  assert.equal(auth.asked.length, 2, 'asked again once the TTL ran out');
});

test('caches a negative answer for the SOA minimum', async () => {
  const auth = await authority({ ttl: 30 });
  const r = await resolver([auth.port]);
  const none = await ask(r, '192.0.2.0/24', 'nope.example.com');
  assert.equal((none as { rcode?: string }).rcode, 'NXDOMAIN');
  assert.equal(none.authorities?.[0]?.type, 'SOA');
  await ask(r, '192.0.2.0/24', 'nope.example.com');
  assert.equal(auth.asked.length, 1);
});

test('a dead name server (closed port): answered by the other, and remembered as dead', async () => {
  const live = await authority({ ttl: 0 });
  const r = await resolver([await closedPort(), live.port]);
  for (let i = 0; i < 10; i++) assert.deepEqual(addresses(await ask(r, `192.0.${i}.0/24`)), [`10.0.0.${i}`]);
  assert.equal(live.asked.length, 10);
  assert.ok(
    r.stats.upstreamFailures <= 1,
    `the dead one was tried at most once (${r.stats.upstreamFailures})`,
  );
});

test('a silent name server: answered by the other after the timeout, then skipped', async () => {
  const silent = await authority({ ttl: 0, silent: true });
  const live = await authority({ ttl: 0 });
  const r = await resolver([silent.port, live.port], { timeoutMs: 200 });
  for (let i = 0; i < 10; i++) assert.deepEqual(addresses(await ask(r, `192.0.${i}.0/24`)), [`10.0.0.${i}`]);
  assert.ok(silent.asked.length <= 1, `the silent one was asked at most once (${silent.asked.length})`);
});

test('SERVFAIL when every name server fails, and that is not cached', async () => {
  const silent = await authority({ ttl: 60, silent: true });
  const r = await resolver([await closedPort(), silent.port], { timeoutMs: 100 });
  const failed = await ask(r, '192.0.2.0/24');
  assert.equal((failed as { rcode?: string }).rcode, 'SERVFAIL');
  await ask(r, '192.0.2.0/24');
  assert.equal(silent.asked.length, 2, 'a dead server is still tried when no other is alive');
  assert.equal(r.stats.servfails, 2);
});

test('the cache is bounded: the least recently used answers go first', async () => {
  const auth = await authority({ ttl: 60 });
  const r = await resolver([auth.port], { maxEntries: 3 });
  for (let i = 0; i < 5; i++) await ask(r, `192.0.${i}.0/24`);
  assert.equal(r.cacheSize, 3);
  await ask(r, '192.0.4.0/24');
  assert.equal(auth.asked.length, 5, 'the newest is still cached');
  await ask(r, '192.0.0.0/24');
  assert.equal(auth.asked.length, 6, 'the oldest was dropped');
});

test('one question to the name servers for many identical questions at once', async () => {
  const auth = await authority({ ttl: 60 });
  const r = await resolver([auth.port]);
  await Promise.all(Array.from({ length: 20 }, () => ask(r, '192.0.2.0/24')));
  assert.equal(auth.asked.length, 1);
});
