// Protocol behaviour of `meridian dns`, each checked with a real client
// (kdig or dig) against the running server.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import packet from 'dns-packet';
import {
  addressesOf,
  dig,
  dnsConfig,
  ecsOf,
  kdig,
  kdigText,
  metricsText,
  type RunningDns,
  startDns,
} from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

let server: RunningDns;
const BIG = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(100));

before(async () => {
  const { file } = await dnsConfig((doc) => {
    doc.zone.soa = { minimum: 42 };
    doc.zone.records = [
      { name: 'www', type: 'A', values: ['192.0.2.80'] },
      { name: 'alias', type: 'CNAME', values: ['api.example.com'] },
      { name: 'big', type: 'TXT', values: BIG },
      { name: '@', type: 'MX', values: [{ preference: 10, exchange: 'mx.example.com' }] },
      { name: 'mx', type: 'A', values: ['192.0.2.25'] },
      { name: 'a.deep', type: 'A', values: ['192.0.2.26'] },
    ];
    doc.dns = { tcpIdleTimeout: '400ms' };
  });
  server = await startDns(file);
});
after(async () => {
  assert.equal(await server?.stop(), 0);
});

test('authoritative answers have AA set; no recursion offered', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['www.example.com', 'A']);
  assert.equal(a.AA, 1);
  assert.equal(a.RA, 0);
  assert.deepEqual(addressesOf(a), ['192.0.2.80']);
});

test('names match whatever their case, and the question is echoed as asked', (t) => {
  if (!requireProgram(t, 'dig')) return;
  const out = dig(server.port, [
    'ApI.ExAmPlE.cOm',
    'A',
    '+subnet=171.64.0.0/24',
    '+noall',
    '+question',
    '+answer',
  ]);
  assert.match(out, /^;ApI\.ExAmPlE\.cOm\.\s+IN\s+A$/m);
  assert.match(out, /^ApI\.ExAmPlE\.cOm\.\s+30\s+IN\s+A\s+198\.51\.100\.10$/m);
});

test('NXDOMAIN carries the SOA in authority with the negative TTL (SOA minimum)', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['nope.example.com', 'A']);
  assert.equal(a.RCODE, 3);
  assert.equal(a.AA, 1);
  assert.equal(a.ANCOUNT, 0);
  assert.equal(a.authorityRRs?.[0].TYPEname, 'SOA');
  assert.equal(a.authorityRRs?.[0].TTL, 42);
});

test('NODATA for a name without that type, and for an empty non-terminal', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  for (const [name, type] of [
    ['www.example.com', 'MX'],
    ['deep.example.com', 'A'],
  ]) {
    const a = kdig(server.port, [name, type]);
    assert.equal(a.RCODE, 0, `${name} ${type}`);
    assert.equal(a.ANCOUNT, 0);
    assert.equal(a.authorityRRs?.[0].TYPEname, 'SOA');
    assert.equal(a.authorityRRs?.[0].TTL, 42);
  }
});

test('REFUSED for names outside the zone', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['example.org', 'A']);
  assert.equal(a.RCODE, 5);
  assert.equal(a.AA, 0);
});

test('FORMERR for a malformed query (an ECS option with a 33-bit IPv4 prefix)', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['api.example.com', 'A', '+ednsopt=8:00012100ab400000']);
  assert.equal(a.RCODE, 1);
});

test('NOTIMP for opcodes other than QUERY', (t) => {
  if (!requireProgram(t, 'dig')) return;
  assert.match(dig(server.port, ['+opcode=notify', 'api.example.com']), /opcode: NOTIFY, status: NOTIMP/);
  assert.match(dig(server.port, ['+opcode=update', 'api.example.com']), /status: NOTIMP/);
});

test('EDNS: the OPT record is echoed with our payload size, and absent when the query had none', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const opt = kdig(server.port, ['www.example.com', 'A', '+edns']).additionalRRs?.find(
    (rr) => rr.TYPE === 41,
  );
  assert.ok(opt, 'OPT in the response');
  assert.equal(opt.CLASS, 1232);
  const plain = kdig(server.port, ['www.example.com', 'A']);
  assert.equal(
    plain.additionalRRs?.find((rr) => rr.TYPE === 41),
    undefined,
  );
});

test('EDNS: the client payload size is honoured; TC when it does not fit; TCP returns it whole', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const small = kdig(server.port, ['big.example.com', 'TXT', '+bufsize=512', '+ignore']);
  assert.equal(small.TC, 1);
  assert.equal(small.ANCOUNT, 0);
  const noEdns = kdig(server.port, ['big.example.com', 'TXT', '+noedns', '+ignore']);
  assert.equal(noEdns.TC, 1);
  const fits = kdig(server.port, ['big.example.com', 'TXT', '+bufsize=1232']);
  assert.equal(fits.TC, 0);
  assert.equal(fits.ANCOUNT, 1);
  const tcp = kdig(server.port, ['big.example.com', 'TXT', '+bufsize=512', '+tcp']);
  assert.equal(tcp.TC, 0);
  assert.equal(tcp.ANCOUNT, 1);
  assert.ok(Number(tcp.msgLength) > 512);
});

test('BADVERS for EDNS version 1', (t) => {
  if (!requireProgram(t, 'dig')) return;
  const out = dig(server.port, ['+edns=1', '+noednsneg', 'api.example.com']);
  assert.match(out, /status: BADVERS/);
});

test('several queries on one TCP connection (kdig +keepopen and a pipelining client)', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const out = kdigText(server.port, [
    '+tcp',
    '+keepopen',
    'www.example.com',
    'A',
    'mx.example.com',
    'A',
    'example.com',
    'SOA',
  ]);
  assert.equal(out.match(/status: NOERROR/g)?.length, 3, out);
  const answers = await pipelined(server.port, ['www.example.com', 'mx.example.com', 'nope.example.com']);
  assert.deepEqual(
    answers.map((a) => (a as { rcode?: string }).rcode),
    ['NOERROR', 'NOERROR', 'NXDOMAIN'],
  );
});

test('an idle TCP connection is closed after dns.tcpIdleTimeout', async () => {
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const started = Date.now();
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', reject);
    socket.on('close', () => resolve(Date.now() - started));
    socket.resume();
  });
  assert.ok(closedAfter >= 300, `closed after ${closedAfter} ms`);
});

test('ECS: steered answers carry the scope decide() used; static answers scope 0', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const steered = ecsOf(kdig(server.port, ['api.example.com', 'A', '+subnet=171.64.0.0/24']));
  assert.deepEqual(steered, { family: 1, source: 24, scope: 24 });
  const wide = ecsOf(kdig(server.port, ['api.example.com', 'AAAA', '+subnet=2001:4860::/32']));
  assert.deepEqual(wide, { family: 2, source: 32, scope: 56 });
  const fixed = ecsOf(kdig(server.port, ['www.example.com', 'A', '+subnet=171.64.0.0/24']));
  assert.deepEqual(fixed, { family: 1, source: 24, scope: 0 });
  const optOut = kdig(server.port, ['api.example.com', 'A', '+subnet=0.0.0.0/0']);
  assert.equal(ecsOf(optOut)?.scope, 0);
});

test('SOA and NS at the apex, MX with its glue, a CNAME followed to a steered name', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  assert.equal(kdig(server.port, ['example.com', 'SOA']).answerRRs?.[0].TYPEname, 'SOA');
  const ns = kdig(server.port, ['example.com', 'NS']);
  assert.equal(ns.answerRRs?.[0].rdataNS, 'ns1.example.com.');
  assert.equal(ns.additionalRRs?.find((rr) => rr.TYPE === 1)?.rdataA, '192.0.2.53');
  const mx = kdig(server.port, ['example.com', 'MX']);
  assert.equal(mx.additionalRRs?.find((rr) => rr.TYPE === 1)?.rdataA, '192.0.2.25');
  const alias = kdig(server.port, ['alias.example.com', 'A', '+subnet=171.64.0.0/24']);
  assert.deepEqual(
    alias.answerRRs?.map((rr) => rr.TYPEname),
    ['CNAME', 'A'],
  );
  assert.deepEqual(addressesOf(alias), ['198.51.100.10']);
});

test('_meridian.<hostname> TXT explains the answer', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['_meridian.api.example.com', 'TXT', '+subnet=128.59.0.0/24']);
  const text = String(a.answerRRs?.[0].rdataTXT ?? '');
  for (const want of ['location=New York', 'rule=territory', 'region=us-east-1', 'health=HEALTHY', 'dial=']) {
    assert.ok(text.includes(want), `${want} in ${text}`);
  }
});

test('/metrics counts queries by type and rcode, answers by region, and latency', async () => {
  const text = await metricsText(server.admin);
  assert.match(text, /meridian_dns_queries_total\{qtype="A",rcode="NOERROR",transport="udp"\} [1-9]/);
  assert.match(text, /meridian_dns_queries_total\{qtype="A",rcode="NXDOMAIN",transport="udp"\} [1-9]/);
  assert.match(text, /meridian_dns_answers_total\{region="us-west-2"\} [1-9]/);
  assert.match(text, /meridian_dns_query_duration_seconds_count [1-9]/);
  assert.match(text, /meridian_dns_rate_limited_total\{action="drop"\} 0/);
  const health = await (await fetch(`http://${server.admin}/meridian/health`)).json();
  assert.equal(health.part, 'dns');
  assert.equal(health.regions.length, 2);
});

/** Writes several queries back to back on one connection and reads every answer. */
function pipelined(port: number, names: string[]): Promise<packet.Packet[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const frames = names.map((name, i) =>
      packet.streamEncode({ id: i + 1, type: 'query', questions: [{ name, type: 'A' }] }),
    );
    socket.on('connect', () => socket.write(Buffer.concat(frames)));
    let buf = Buffer.alloc(0);
    const answers: packet.Packet[] = [];
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (answers.length === names.length) {
        socket.destroy();
        resolve(answers.sort((a, b) => (a.id ?? 0) - (b.id ?? 0)));
      }
    });
    socket.on('error', reject);
  });
}
