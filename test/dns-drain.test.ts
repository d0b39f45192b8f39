// SIGTERM drains `meridian dns`: queries sent before the signal (waiting in
// the UDP receive queue, or on a TCP connection) are answered, then it exits 0.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import packet from 'dns-packet';
import { dnsConfig, type RunningDns, startDns } from './dns-support.js';

/** Small enough that every query fits in the server's default receive buffer (212 KB). */
const BURST = 120;

const query = (id: number) =>
  packet.encode({ id, type: 'query', questions: [{ name: 'api.example.com', type: 'A' }] });

/** The burst is about draining, not rate limiting: every query must get its answer. */
const drainConfig = () =>
  dnsConfig((doc) => {
    doc.dns = { ...doc.dns, rateLimit: { enabled: false } };
  });

/** Resolves when `done()` holds, checked on every event; gives up after `ms` (a failure, not a measurement). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const give = Date.now() + ms;
  while (!done() && Date.now() < give) await new Promise((r) => setTimeout(r, 10));
}

/** Sends BURST queries with ids 1..BURST, SIGTERM right after the last is sent; the answers by id and the exit code. */
async function burstThenSigterm(server: RunningDns) {
  const client = createSocket('udp4');
  const answered = new Map<number, packet.Packet>();
  client.on('message', (msg) => {
    const answer = packet.decode(msg);
    answered.set(answer.id ?? 0, answer);
  });
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const sent = Array.from(
    { length: BURST },
    (_, i) =>
      new Promise<void>((resolve, reject) =>
        client.send(query(i + 1), server.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      ),
  );
  await Promise.all(sent);
  const code = await server.stop();
  await until(() => answered.size === BURST, 5000);
  client.close();
  return { answered, code };
}

function assertAllAnswered(answered: Map<number, packet.Packet>, stderr: string) {
  const missing = Array.from({ length: BURST }, (_, i) => i + 1).filter((id) => !answered.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${BURST} queries unanswered\n${stderr}`);
  for (const [id, answer] of answered) {
    assert.equal(answer.type, 'response', `id ${id}`);
    assert.equal(answer.questions?.[0]?.name, 'api.example.com', `id ${id}`);
    assert.equal(answer.answers?.[0]?.type, 'A', `id ${id}`);
  }
}

function drainedLine(stderr: string): { answered: number } | undefined {
  const line = stderr.split('\n').find((l) => l.includes('"dns drained"'));
  return line ? JSON.parse(line) : undefined;
}

for (const loop of ['batched', 'dgram'] as const) {
  test(`SIGTERM after a UDP burst: every query is answered, then exit 0 (${loop} loop)`, async (t) => {
    const { file } = await drainConfig();
    const env = loop === 'dgram' ? { MERIDIAN_DNS_NATIVE: '0' } : {};
    const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '1'], env);
    if (server.ready.loop !== loop) {
      await server.stop();
      t.skip(`the ${loop} loop is not available here: ${server.ready.loopWhy}`);
      return;
    }
    const { answered, code } = await burstThenSigterm(server);
    assertAllAnswered(answered, server.stderr());
    assert.equal(code, 0, server.stderr());
    assert.ok(server.stderr().includes('"dns draining'), server.stderr());
    assert.ok(drainedLine(server.stderr()), server.stderr());
  });
}

test('SIGTERM with two workers: each drains its share of a UDP burst, then exit 0', async () => {
  const { file } = await drainConfig();
  const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '2']);
  const { answered, code } = await burstThenSigterm(server);
  assertAllAnswered(answered, server.stderr());
  assert.equal(code, 0, server.stderr());
});

/** Reads length-prefixed DNS messages (RFC 1035 4.2.2) from a TCP connection. */
function framedReader(socket: Socket) {
  const messages: packet.Packet[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      messages.push(packet.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
      pending = pending.subarray(2 + pending.readUInt16BE(0));
    }
  });
  return messages;
}

const framed = (msg: Buffer) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

/** A connection the server has taken (it answered query 1), and the messages read from it. */
async function servedConnection(server: RunningDns) {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  const messages = framedReader(socket);
  await once(socket, 'connect');
  // Answered: the server has accepted it (a connection left in the accept queue is another story).
  socket.write(framed(query(1)));
  await until(() => messages.length === 1, 10_000);
  assert.equal(messages[0]?.id, 1, server.stderr());
  return { socket, messages };
}

async function assertSecondAnswered(
  server: RunningDns,
  socket: Socket,
  messages: packet.Packet[],
  code: number | null,
) {
  if (!socket.closed) await once(socket, 'close');
  assert.equal(code, 0, server.stderr());
  assert.deepEqual(
    messages.map((m) => m.id),
    [1, 2],
    server.stderr(),
  );
  assert.equal(messages[1]?.answers?.[0]?.type, 'A');
}

test('SIGTERM right after a TCP query: it is answered before the connection ends, then exit 0', async () => {
  const { file } = await drainConfig();
  const server = await startDns(file);
  const { socket, messages } = await servedConnection(server);
  socket.write(framed(query(2)));
  await assertSecondAnswered(server, socket, messages, await server.stop());
});

test('SIGTERM with a TCP query half-read: the rest arrives and it is answered, then exit 0', async () => {
  const { file } = await drainConfig();
  const server = await startDns(file);
  const { socket, messages } = await servedConnection(server);
  const second = framed(query(2));
  socket.write(second.subarray(0, 9));
  const stopped = server.stop();
  socket.write(second.subarray(9));
  await assertSecondAnswered(server, socket, messages, await stopped);
});
