// Split-brain with a real packet filter: namespaces per site, TCP across them, nft/iptables cuts;
// and the lab's split-brain drill on the proxy path (its packet-filter path: lab-scenarios.test.ts).
// meridian-test: run alone
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { LabNetwork, nftTable, relayRoutes, removeStale } from '../src/lab/netns.js';
import { LabProcess } from '../src/lab/processes.js';
import { findProgram } from '../src/lab/programs.js';
import { labVerdict, runCli, runLong } from './helpers/cli.js';
import { netnsLeftovers, requireNetns, skipNetns } from './helpers/netns.js';

const run = promisify(execFile);

/** Connects from inside a namespace (a plain node, no tsx) and says what came back within 1.5 s. */
async function talkFrom(namespace: string, host: string, port: number): Promise<string> {
  const script = `const s=require('net').connect(${port},'${host}');s.on('connect',()=>s.write('ping'));
s.on('data',d=>{console.log('got:'+d);process.exit(0)});s.on('error',e=>{console.log('error:'+e.code);process.exit(0)});
setTimeout(()=>{console.log('timeout');process.exit(0)},1500);`;
  // Not spawnSync: the target's servers run in this process and must keep answering.
  const r = await run('ip', ['netns', 'exec', namespace, process.execPath, '-e', script]);
  return r.stdout.trim();
}

async function echoOn(host: string) {
  const server = createServer((s) => s.on('data', (d) => s.write(d)));
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** The next chunk a socket receives, or null after 1.5 s. */
async function reply(socket: Socket, text: string): Promise<string | null> {
  socket.write(text);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 1500);
    socket.once('data', (d) => {
      clearTimeout(timer);
      resolve(String(d));
    });
  });
}

for (const filter of ['nft', 'iptables'] as const)
  test(`two namespaces, ${filter}: TCP crosses through relays, the filter cuts it, heal restores it, close leaves nothing`, async (t) => {
    if (!requireNetns(t)) return;
    if (!findProgram(filter)) {
      skipNetns(t, `${filter} is not installed`);
      return;
    }
    const net = LabNetwork.create(['a', 'b'], filter);
    const relays: LabProcess[] = [];
    const logs = mkdtempSync(join(tmpdir(), 'meridian-netns-'));
    const echo = await echoOn('127.0.0.1');
    const sockets: Socket[] = [];
    let delivery: Server | undefined;
    try {
      const a = net.sites.get('a')!;
      const b = net.sites.get('b')!;
      // The lab's path for a link a>b on port P: a's namespace -> b's namespace -> b's gateway -> target.
      delivery = createServer((s) => {
        const up = connect(echo.port, '127.0.0.1');
        sockets.push(s, up);
        s.pipe(up).pipe(s);
      });
      const P = 40_000 + (process.pid % 20_000);
      delivery.listen(P, b.gateway);
      await once(delivery, 'listening');
      const routes = relayRoutes(
        [{ name: 'echo:a>b', from: 'a', to: 'b', targetPort: echo.port, rttMs: 0 }],
        { 'echo:a>b': P },
        net.sites,
      );
      for (const site of ['a', 'b']) {
        const relay = new LabProcess(
          `relay-${site}`,
          ['--routes', JSON.stringify(routes.get(site))],
          logs,
          {},
          net.relayEntry(site),
        );
        relays.push(relay);
        await relay.start(60_000);
      }
      // From the root namespace into a's relay, across to b: the lab's links do this.
      const flow = connect(P, a.address);
      sockets.push(flow);
      await once(flow, 'connect');
      assert.equal(await reply(flow, 'one'), 'one');
      assert.equal(await talkFrom(a.namespace, b.address, P), 'got:ping', 'a reaches b directly');

      net.cut('blackhole');
      assert.deepEqual(net.cutPairs, ['a|b']);
      assert.equal(await talkFrom(a.namespace, b.address, P), 'timeout', 'a new connection a>b hangs');
      assert.equal(await talkFrom(b.namespace, a.address, P), 'timeout', 'and b>a');
      assert.equal(await reply(flow, 'two'), null, 'an open flow stops');
      assert.ok(net.droppedPackets > 0, `the filter counted its drops: ${net.droppedPackets}`);

      net.cut(false);
      assert.equal(await talkFrom(a.namespace, b.address, P), 'got:ping', 'healed');
      net.cut('reset', 'b');
      assert.match(
        await talkFrom(a.namespace, b.address, P),
        /^error:ECONNREFUSED|^error:ECONNRESET/,
        'reset',
      );
      net.cut(false, 'b');
      assert.equal(await talkFrom(a.namespace, b.address, P), 'got:ping');
    } finally {
      for (const s of sockets) s.destroy();
      delivery?.close();
      await Promise.all(relays.map((r) => r.stop()));
      echo.server.close();
      net.close();
    }
    assert.deepEqual(netnsLeftovers(process.pid), [], 'no namespace, table or veth left');
  });

test('a lab that died leaves namespaces and a table behind: the next start removes them, not a live one', async (t) => {
  if (!requireNetns(t)) return;
  if (!findProgram('nft')) {
    skipNetns(t, 'nft is not installed');
    return;
  }
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout.trim());
  const mine = `mrd-${process.pid}-kept`;
  for (const ns of [`mrd-${deadPid}-a`, mine]) spawnSync('ip', ['netns', 'add', ns]);
  spawnSync('nft', ['add', 'table', 'inet', nftTable(deadPid)]);
  try {
    const removed = removeStale('nft');
    assert.deepEqual(removed.sort(), [`mrd-${deadPid}-a`, nftTable(deadPid)].sort());
    assert.deepEqual(netnsLeftovers(deadPid), []);
    assert.match(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, new RegExp(mine));
  } finally {
    spawnSync('ip', ['netns', 'delete', mine]);
    spawnSync('ip', ['netns', 'delete', `mrd-${deadPid}-a`]);
    spawnSync('nft', ['delete', 'table', 'inet', nftTable(deadPid)]);
  }
});

test('meridian lab --link-cut nope: a clear error, exit 2 (usage)', () => {
  const r = runCli(['lab', '--link-cut', 'nope', '--report', mkdtempSync(join(tmpdir(), 'lab-'))]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^meridian: --link-cut expects auto, proxy or packet-filter, got "nope"/);
});

// The proxy path (what runs without root), 30 s. The packet-filter path runs in
// lab-scenarios.test.ts, whose split-brain CI runs as root: there `auto` cuts with the filter.
test('meridian lab --scenario split-brain --link-cut proxy: passes, reports what cut, leaves nothing', {
  timeout: 400_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-lab-netns-'));
  const r = runLong(
    [
      'lab',
      '--scenario',
      'split-brain',
      '--duration',
      '30',
      '--rate',
      '40',
      '--link-cut',
      'proxy',
      '--report',
      dir,
      '--json',
    ],
    380_000,
  );
  const { summary, failures } = labVerdict(r);
  const dataNotes = ((summary.notes as string[] | undefined) ?? []).filter((n) => n.startsWith('data check'));
  assert.deepEqual(failures, [], `the drill passes\n${dataNotes.join('\n')}`);
  assert.equal(summary.linkCut, 'proxy');
  const notes = (summary.notes as string[]).join('\n');
  assert.match(notes, /^links: cut by their user-space proxies \(--link-cut proxy/m);
});
