// The differential HTTP fuzzer in CI: a fixed seed of 20,000 random and
// mutated request heads through the fast inbound path and llhttp in process;
// any disagreement fails (npm run bench -- fuzz-http runs a million). A
// sample also goes through a real node:http server over loopback, to prove
// the in-process llhttp is configured as the edge's server is.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { fuzzCase, Rng } from './helpers/http-fuzz/cases.js';
import { MAX_HEADER_SIZE, runDifferential } from './helpers/http-fuzz/differential.js';
import { llhttpParse } from './helpers/http-fuzz/llhttp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.FUZZ_CASES ?? 20_000);

test(`fast path and llhttp agree on ${CASES} fuzzed heads (seed ${SEED})`, () => {
  const s = runDifferential(CASES, SEED);
  process.stdout.write(
    `# fuzz-http: ${s.served} served by the fast path, ${s.handedOff} handed off, ${s.waiting} waiting, ${s.ms} ms\n`,
  );
  assert.deepEqual(s.examples, [], `${s.disagreements} disagreements`);
  // The generator must keep reaching every branch, or agreement proves little.
  for (const k of ['served', 'handedOff', 'waiting'] as const) assert.ok(s[k] > CASES / 50, `${k}: ${s[k]}`);
});

type Seen = { head: string } | { error: string } | { incomplete: true } | { hung: true };
const seenBy = new Map<number, Seen>();
let server: Server;
let port: number;

before(async () => {
  // As src/edge/server.ts configures the edge's parser.
  server = createServer({
    maxHeaderSize: MAX_HEADER_SIZE,
    requireHostHeader: false,
    joinDuplicateHeaders: false,
  });
  // CONNECT, Upgrade and Expect requests arrive as their own events; the head is what is compared.
  for (const event of ['request', 'connect', 'upgrade', 'checkContinue', 'checkExpectation']) {
    server.on(event, (req: IncomingMessage) => {
      const p = req.socket.remotePort!;
      if (!seenBy.has(p)) seenBy.set(p, { head: JSON.stringify([req.method, req.url, req.rawHeaders]) });
      req.socket.destroy();
    });
  }
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    const p = socket.remotePort;
    if (p !== undefined && !seenBy.has(p)) seenBy.set(p, { error: err.code ?? 'ERROR' });
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

/**
 * What Node's real server made of `buf`, sent then half-closed: the first
 * request head, or a parse error. The server closes every connection once it
 * has decided, so no timer decides for it.
 */
function overSocket(buf: Buffer): Promise<Seen> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let local = -1;
    // Only a server that never decides gets here; it fails the comparison instead of hanging the test.
    const hung = setTimeout(() => {
      socket.destroy();
      resolve({ hung: true });
    }, 10_000);
    socket.on('connect', () => {
      local = socket.localPort!;
      socket.end(buf);
    });
    // The server records a head or an error before it closes the socket.
    socket.on('close', () => {
      clearTimeout(hung);
      setImmediate(() => resolve(seenBy.get(local) ?? { incomplete: true }));
    });
    socket.on('error', () => {});
  });
}

function inProcess(buf: Buffer): Seen {
  const ll = llhttpParse(buf, MAX_HEADER_SIZE);
  const first = ll.messages[0];
  if (first) return { head: JSON.stringify([first.method, first.url, first.rawHeaders]) };
  if (ll.error) return { error: ll.error };
  // Unfinished bytes: the real server sees our half-close in the middle of a request.
  return buf.length > 0 ? { error: 'HPE_INVALID_EOF_STATE' } : { incomplete: true };
}

test('the in-process llhttp sees what a real node:http server sees (300 sampled cases)', async () => {
  const rng = new Rng(SEED ^ 0xabcdef);
  const cases = Array.from({ length: 300 }, () => fuzzCase(rng));
  for (let i = 0; i < cases.length; i += 30) {
    const batch = cases.slice(i, i + 30);
    const real = await Promise.all(batch.map(overSocket));
    batch.forEach((buf, j) => {
      assert.deepEqual(real[j], inProcess(buf), JSON.stringify(buf.toString('latin1')));
    });
  }
});
