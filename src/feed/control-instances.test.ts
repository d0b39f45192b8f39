import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isMeridianError } from '../errors.js';
import { ControlInstances, type InstanceHealth, parseControlUrls, probeHealth } from './control-instances.js';
import { startReporter } from './reporter.js';

test('--control lists: one URL, comma-separated, repeated, blanks and duplicates', () => {
  const cases: { name: string; input: string | string[]; expect: string[] }[] = [
    { name: 'one URL', input: 'http://10.0.0.1:8300', expect: ['http://10.0.0.1:8300'] },
    {
      name: 'comma-separated, spaces',
      input: 'http://a:8300, https://b:8300/',
      expect: ['http://a:8300', 'https://b:8300'],
    },
    {
      name: 'repeated flag, one item itself a list',
      input: ['http://a:1', 'http://b:2,http://c:3'],
      expect: ['http://a:1', 'http://b:2', 'http://c:3'],
    },
    { name: 'duplicates and blanks dropped', input: 'http://a:1,,http://a:1/,', expect: ['http://a:1'] },
  ];
  for (const c of cases) assert.deepEqual(parseControlUrls(c.input), c.expect, c.name);
});

test('--control lists: bad items are a BAD_ARGUMENT naming the item', () => {
  const cases = [
    { input: 'nowhere', names: 'nowhere' },
    { input: 'http://a:1,ftp://b', names: 'ftp://b' },
    { input: 'http://a:1;http://b:2', names: 'http://a:1;http://b:2' },
    { input: ' , ', names: 'at least one' },
    { input: [] as string[], names: 'at least one' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseControlUrls(c.input),
      (e) => isMeridianError(e) && e.code === 'BAD_ARGUMENT' && e.message.includes(c.names),
      JSON.stringify(c.input),
    );
  }
});

/** A probe that answers from a table: url -> isLeader, or absent (down). */
const probeFrom =
  (up: Record<string, boolean>) =>
  async (url: string): Promise<InstanceHealth | null> =>
    url in up ? { url, isLeader: up[url], version: 1 } : null;

test('choose(): the leader when one says so, else round the list skipping the dead', async () => {
  const urls = ['http://a', 'http://b', 'http://c'];
  let up: Record<string, boolean> = { 'http://a': false, 'http://b': false, 'http://c': true };
  const instances = new ControlInstances(urls, (u) => probeFrom(up)(u));
  assert.equal(await instances.choose(), 'http://c', 'the leader, though listed last');
  assert.equal(await instances.choose(), 'http://c', 'still the leader');

  up = { 'http://a': false, 'http://b': false }; // c died; no leader elected yet
  assert.equal(await instances.choose(), 'http://a', 'the next after c that answers');
  assert.equal(await instances.choose(), 'http://b');
  assert.equal(await instances.choose(), 'http://a');

  up = { 'http://b': false };
  assert.equal(await instances.choose(), 'http://b', 'skips a and c, which do not answer');

  up = {}; // none answers: plain round robin, so the stream itself is tried everywhere
  const seen = [await instances.choose(), await instances.choose(), await instances.choose()];
  assert.deepEqual(seen, ['http://c', 'http://a', 'http://b']);
});

test('leaderElsewhere(): only when the instance in use does not lead and another does', async () => {
  let up: Record<string, boolean> = { 'http://a': false, 'http://b': false };
  const instances = new ControlInstances(['http://a', 'http://b'], (u) => probeFrom(up)(u));
  assert.equal(await instances.choose(), 'http://a');
  assert.equal(await instances.leaderElsewhere(), null, 'no leader anywhere: stay');
  up = { 'http://a': false, 'http://b': true };
  assert.equal(await instances.leaderElsewhere(), 'http://b');
  up = { 'http://a': true, 'http://b': true }; // a stale claim elsewhere: stay with a leader
  assert.equal(await instances.leaderElsewhere(), null);
  assert.equal(
    await new ControlInstances(['http://a']).leaderElsewhere(),
    null,
    'one instance: nothing to ask',
  );
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('probeHealth reads /v1/health; a dead or odd instance is null', async () => {
  const { url, server } = await listen((req, res) => {
    if (req.url === '/v1/health') res.end(JSON.stringify({ ok: true, version: 7, isLeader: true }));
    else res.writeHead(404).end('{}');
  });
  try {
    assert.deepEqual(await probeHealth(url, 1000), { url, isLeader: true, version: 7 });
    const odd = await listen((_req, res) => res.writeHead(404).end('{"ok":true}'));
    assert.equal(await probeHealth(odd.url, 1000), null, 'not 200');
    odd.server.closeAllConnections();
    odd.server.close();
    server.close();
    server.closeAllConnections();
    assert.equal(await probeHealth(url, 1000), null);
  } finally {
    server.close();
  }
});

test('the reporter moves to the next instance when one fails, and stays where reports are taken', async () => {
  const got: string[] = [];
  const good = await listen((req, res) => {
    got.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(202).end('{"accepted":true}'));
  });
  const bad = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(503).end('{}'));
  });
  const reporter = startReporter({
    controlUrl: [bad.url, good.url],
    token: 't',
    collect: () => ({ region: 'r' }) as never,
    intervalMs: 20,
  });
  try {
    const deadline = Date.now() + 10_000;
    while (reporter.stats.sent < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(reporter.stats.sent >= 3, `sent ${reporter.stats.sent}`);
    assert.equal(reporter.stats.failed, 1, 'one failure, then it stays with the instance that takes reports');
    assert.ok(got.every((u) => u === '/v1/reports'));
  } finally {
    await reporter.close();
    for (const s of [good.server, bad.server]) {
      s.closeAllConnections();
      s.close();
    }
  }
});
