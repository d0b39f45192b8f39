// Every path that turns IPv6 text into wire bytes, fed the forms a hand-written
// parser gets wrong: core's parser, the DNS server's answers (static records,
// glue, steered region addresses), the rfc2136 provider's update message (and
// what BIND and Knot hold after it, read back with dig and kdig), and
// dns-packet, which the lab's resolver and client encode with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { snapshotFromConfig } from '../src/config/index.js';
import { parseIpv6 } from '../src/core/ip.js';
import { DnsEngine } from '../src/dns/handler.js';
import { GeoLocator } from '../src/geo/index.js';
import { Rfc2136Provider } from '../src/providers/rfc2136.js';
import { exampleConfig } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';
import { startKnot, startNamed, tsigSecret, ZONE } from './providers-servers.js';

const FORMS: { text: string; hex: string }[] = [
  { text: '::ffff:192.0.2.1', hex: '00000000000000000000ffffc0000201' },
  { text: '::', hex: '00000000000000000000000000000000' },
  { text: '::1', hex: '00000000000000000000000000000001' },
  { text: '2001:db8::', hex: '20010db8000000000000000000000000' },
  { text: '2001:db8:0:0:1::1', hex: '20010db8000000000001000000000001' },
  { text: '64:ff9b::192.0.2.33', hex: '0064ff9b0000000000000000c0000221' },
  { text: '2001:DB8::AB:CDEF', hex: '20010db8000000000000000000abcdef' },
  { text: '2001:0db8:0000:0000:0000:0000:0000:0010', hex: '20010db8000000000000000000000010' },
  { text: '2001:db8:1:2:3:4:5:6', hex: '20010db8000100020003000400050006' },
];
const TEXTS = FORMS.map((f) => f.text);
const HEXES = FORMS.map((f) => f.hex);
const TYPE_AAAA = 28;

/** The RDATA of every non-empty record of `type` in a message, in order (any section but the question). */
function rdataOf(msg: Buffer, type: number): string[] {
  const skipName = (at: number) => {
    let i = at;
    while (msg[i] !== 0 && (msg[i] & 0xc0) !== 0xc0) i += msg[i] + 1;
    return msg[i] === 0 ? i + 1 : i + 2;
  };
  let at = 12;
  for (let q = msg.readUInt16BE(4); q > 0; q--) at = skipName(at) + 4;
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  const out: string[] = [];
  for (let n = 0; n < records; n++) {
    at = skipName(at);
    const len = msg.readUInt16BE(at + 8);
    if (msg.readUInt16BE(at) === type && len > 0) out.push(msg.toString('hex', at + 10, at + 10 + len));
    at += 10 + len;
  }
  return out;
}

test('core parses every form to its bytes', () => {
  for (const f of FORMS) assert.equal(Buffer.from(parseIpv6(f.text) ?? []).toString('hex'), f.hex, f.text);
});

test('dns-packet (the lab resolver and client) encodes every form to its bytes', () => {
  for (const f of FORMS) {
    const msg = dnsPacket.encode({
      type: 'response',
      answers: [{ type: 'AAAA', name: 'x.example', data: f.text }],
    });
    assert.deepEqual(rdataOf(msg, TYPE_AAAA), [f.hex], f.text);
  }
});

let geo: GeoLocator;
before(async () => {
  geo = await GeoLocator.open({});
});

test('the DNS server answers every form with its bytes: static records, glue and steered addresses', () => {
  const config = exampleConfig((doc) => {
    doc.zone.records = FORMS.map((f, i) => ({ name: `v6-${i}`, type: 'AAAA', values: [f.text] }));
    doc.zone.nameservers[0].ipv6 = TEXTS;
    doc.regions[0].addresses.ipv6 = TEXTS;
  });
  const engine = new DnsEngine({ geo, config, snapshot: snapshotFromConfig(config) });
  const ask = (name: string) => {
    const query = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'AAAA', name }] });
    // Loopback has no location: the default region, us-east-1, answers the steered name.
    const reply = engine.handleQuery(query, { address: '127.0.0.1', port: 1053, transport: 'udp' });
    assert.ok(reply, `an answer for ${name}`);
    return rdataOf(Buffer.from(reply), TYPE_AAAA);
  };
  for (const [i, f] of FORMS.entries()) assert.deepEqual(ask(`v6-${i}.example.com`), [f.hex], f.text);
  assert.deepEqual(ask('ns1.example.com').sort(), [...HEXES].sort(), 'glue');
  assert.deepEqual(ask('api.example.com').sort(), [...HEXES].sort(), 'steered');
});

const putAll = {
  action: 'put' as const,
  recordSet: { name: `v6.${ZONE}`, type: 'AAAA' as const, ttl: 30, records: TEXTS },
};

test('the rfc2136 update message carries every form as its bytes', async (t) => {
  // Keeps the update and answers it unsigned: the provider refuses that reply, which is fine here.
  let message = Buffer.alloc(0);
  const server = createServer((socket) => {
    let data = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 2 || data.length < 2 + data.readUInt16BE(0)) return;
      message = data.subarray(2);
      const reply = Buffer.alloc(14);
      reply.writeUInt16BE(12, 0);
      message.copy(reply, 2, 0, 2);
      reply[4] = 0x80 | (5 << 3);
      socket.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const provider = new Rfc2136Provider({
    server: `127.0.0.1:${port}`,
    tsig: { name: 'k', algorithm: 'hmac-sha256', secret: tsigSecret() },
  });
  await assert.rejects(provider.apply(ZONE, [putAll]), { code: 'PROVIDER_FAILED' });
  assert.deepEqual(rdataOf(message, TYPE_AAAA), HEXES);
});

/** RFC 3597 generic form, as dig +unknownformat and kdig +generic print it: "\# 16 20010DB8...". */
const genericHex = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('\\#'))
    .map((l) =>
      l
        .replace(/^\\# 16/, '')
        .replace(/\s/g, '')
        .toLowerCase(),
    )
    .sort();

const servers = [
  ['named', startNamed],
  ['knotd', startKnot],
] as const;

for (const [program, start] of servers) {
  test(`${program} holds every form as its bytes after an rfc2136 update (read back with dig and kdig)`, async (t) => {
    const bin = requireProgram(t, program);
    if (!bin || !requireProgram(t, 'dig') || !requireProgram(t, 'kdig')) return;
    const secret = tsigSecret();
    const server = await start(bin, secret);
    t.after(() => server.close());
    const provider = new Rfc2136Provider({
      server: `127.0.0.1:${server.port}`,
      tsig: { name: 'meridian-key', algorithm: 'hmac-sha256', secret },
    });
    await provider.apply(ZONE, [putAll]);
    const at = ['-p', String(server.port), '@127.0.0.1', `v6.${ZONE}`, 'AAAA'];
    const read = (cmd: string, args: string[]) =>
      genericHex(spawnSync(cmd, args, { encoding: 'utf8' }).stdout);
    const want = [...HEXES].sort();
    assert.deepEqual(read('dig', ['+short', '+unknownformat', '+tries=3', '+time=3', ...at]), want, 'dig');
    assert.deepEqual(read('kdig', ['+short', '+generic', '+retry=2', '+timeout=3', ...at]), want, 'kdig');
  });
}
