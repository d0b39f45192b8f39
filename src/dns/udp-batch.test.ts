// The batched UDP addon on its own, with a stand-in engine: answers, peers,
// bad answers, bad arguments, bind errors, and close from inside a batch.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { createLogger } from '../log.js';
import type { DnsEngine, Peer } from './handler.js';
import { loadAddon, openBatched } from './udp-batch.js';

const log = createLogger('test', 'silent');
/** A stand-in engine: `handle` answers each query (as DnsEngine.answerInto does, into the output slot). */
const engine = (handle: (msg: Buffer, peer: Peer) => Buffer | null) =>
  ({
    answerInto(
      input: Buffer,
      start: number,
      end: number,
      peer: Peer,
      output: Buffer,
      at: number,
      max: number,
    ) {
      const out = handle(input.subarray(start, end), peer);
      if (out === null || out.length > max) return -1;
      out.copy(output, at);
      return out.length;
    },
  }) as unknown as DnsEngine;

async function open(e: DnsEngine, host = '127.0.0.1', port = 0, workers = 1) {
  const s = await openBatched(e, host, port, workers, log);
  if (!('port' in s)) throw new Error(`addon not available: ${s.why}`);
  return s;
}

/** Sends each message and collects what comes back within `ms`. */
async function exchange(port: number, messages: Buffer[], host = '127.0.0.1', ms = 500) {
  const client: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const got: Buffer[] = [];
  client.on('message', (m) => got.push(m));
  client.bind(0, host);
  await once(client, 'listening');
  // In waves: a burst larger than the socket's receive buffer (about 270 small datagrams) is dropped by the kernel.
  for (let i = 0; i < messages.length; i++) {
    client.send(messages[i], port, host);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, ms));
  const clientPort = client.address().port;
  client.close();
  return { got, clientPort };
}

test('the addon loads on Linux from the prebuilt binary (no compiler involved)', (t) => {
  if (process.platform !== 'linux') return t.skip('Linux only');
  const state = loadAddon();
  assert.ok(state.addon, state.why);
  assert.match(state.why, /node\.napi\.glibc\.node|udp_batch\.node/);
});

test('answers every datagram to its sender, IPv4 and IPv6, and passes the peer', async (t) => {
  if (!loadAddon().addon) return t.skip(loadAddon().why);
  for (const host of ['127.0.0.1', '::1']) {
    const peers: string[] = [];
    const s = await open(
      engine((msg, peer) => {
        peers.push(`${peer.address} ${peer.port} ${peer.transport}`);
        return Buffer.concat([Buffer.from('re:'), msg]);
      }),
      host,
    );
    try {
      const sent = Array.from({ length: 300 }, (_, i) => Buffer.from(`q${i}`));
      const { got, clientPort } = await exchange(s.port, sent, host);
      assert.deepEqual(got.map(String).sort(), sent.map((m) => `re:${m}`).sort());
      assert.deepEqual(new Set(peers), new Set([`${host} ${clientPort} udp`]));
    } finally {
      s.close();
    }
  }
});

test('no answer, a thrown error or an answer larger than a slot: that query is skipped, the rest answered', async (t) => {
  if (!loadAddon().addon) return t.skip(loadAddon().why);
  const s = await open(
    engine((msg) => {
      const text = String(msg);
      if (text === 'none') return null;
      if (text === 'throw') throw new Error('boom');
      if (text === 'huge') return Buffer.alloc(5000);
      if (text.startsWith('long')) return Buffer.from(`len ${msg.length}`);
      return msg;
    }),
  );
  try {
    const long = Buffer.concat([Buffer.from('long'), Buffer.alloc(6000)]);
    const { got } = await exchange(
      s.port,
      ['a', 'none', 'throw', 'huge', 'b'].map((x) => Buffer.from(x)).concat(long),
    );
    // A datagram longer than a slot reaches the engine cut to the slot (4096 bytes).
    assert.deepEqual(got.map(String).sort(), ['a', 'b', 'len 4096']);
  } finally {
    s.close();
  }
});

test('close from inside a batch: the batch in hand is answered, nothing after, the port is free again', async (t) => {
  if (!loadAddon().addon) return t.skip(loadAddon().why);
  let handled = 0;
  let closeNow: () => void = () => {};
  const s = await open(
    engine((msg) => {
      handled++;
      closeNow();
      return msg;
    }),
  );
  closeNow = () => s.close();
  const first = await exchange(s.port, [Buffer.from('one')]);
  assert.deepEqual(first.got.map(String), ['one']);
  s.close(); // a second close is harmless
  const after = await exchange(s.port, [Buffer.from('two')], '127.0.0.1', 200);
  assert.deepEqual(after.got, []);
  assert.equal(handled, 1);
  const again = await open(
    engine((m) => m),
    '127.0.0.1',
    s.port,
  );
  again.close();
});

test('bind errors come back as dgram reports them; SO_REUSEPORT lets workers share a port', async (t) => {
  if (!loadAddon().addon) return t.skip(loadAddon().why);
  const a = await open(engine((m) => m));
  try {
    await assert.rejects(
      open(
        engine((m) => m),
        '127.0.0.1',
        a.port,
      ),
      { code: 'EADDRINUSE' },
    );
  } finally {
    a.close();
  }
  const w1 = await open(
    engine((m) => m),
    '127.0.0.1',
    0,
    2,
  );
  const w2 = await open(
    engine((m) => m),
    '127.0.0.1',
    w1.port,
    2,
  );
  const { got } = await exchange(w1.port, [Buffer.from('x'), Buffer.from('y')]);
  assert.deepEqual(got.map(String).sort(), ['x', 'y']);
  w1.close();
  w2.close();
});

test('bad arguments are refused before any socket is opened', (t) => {
  const { addon } = loadAddon();
  if (!addon) return t.skip(loadAddon().why);
  const big = Buffer.alloc(addon.batch * addon.slot);
  const meta = Buffer.alloc(addon.batch * 32);
  const fn = () => {};
  const bad: unknown[][] = [
    ['localhost', 0, 1, big, big, meta, fn],
    ['127.0.0.1', 70000, 1, big, big, meta, fn],
    ['127.0.0.1', 0, 0, big, big, meta, fn],
    ['127.0.0.1', 0, 1, Buffer.alloc(10), big, meta, fn],
    ['127.0.0.1', 0, 1, big, big, Buffer.alloc(8), fn],
    ['127.0.0.1', 0, 1, big, big, meta, 'not a function'],
    ['127.0.0.1'],
  ];
  for (const args of bad)
    assert.throws(() => (addon.open as (...a: unknown[]) => unknown)(...args), { code: 'ERR_DNS_NATIVE' });
  assert.throws(() => addon.port({}), { code: 'ERR_DNS_NATIVE' });
  assert.doesNotThrow(() => addon.close('not a handle'));
});
