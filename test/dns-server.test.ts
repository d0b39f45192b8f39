// `meridian dns` as a process: IPv6, several workers, rate limiting, the
// control plane as snapshot source, and clear errors for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import packet from 'dns-packet';
import { loadConfig, snapshotFromConfig } from '../src/config/index.js';
import { snapshotToJson } from '../src/feed/index.js';
import { addressesOf, dnsConfig, ecsOf, kdig, metricsText, startDns } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

test('serves IPv6 and IPv4 at once', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const { file } = await dnsConfig();
  const server = await startDns(file, ['--listen', '[::1]:0', '--listen', '127.0.0.1:0', '--workers', '1']);
  try {
    assert.match(String(server.ready.udp), /^\[::1\]:\d+,127\.0\.0\.1:\d+$/);
    const v6port = Number(
      String((server.ready.udp as string[])[0])
        .split(':')
        .pop(),
    );
    const v4port = Number(
      String((server.ready.udp as string[])[1])
        .split(':')
        .pop(),
    );
    const a = kdig(v6port, ['api.example.com', 'AAAA', '+subnet=171.64.0.0/24'], '::1');
    assert.deepEqual(addressesOf(a), ['2001:db8:2::10']);
    const tcp = kdig(v6port, ['api.example.com', 'A', '+tcp', '+subnet=128.59.0.0/24'], '::1');
    assert.deepEqual(addressesOf(tcp), ['192.0.2.10']);
    assert.equal(kdig(v4port, ['api.example.com', 'A', '+subnet=128.59.0.0/24']).ANCOUNT, 1);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('two workers share the port; /metrics sums them; SIGTERM stops all of them', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const { file } = await dnsConfig();
  const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '2']);
  try {
    assert.equal(server.ready.workers, 2);
    for (let i = 0; i < 6; i++) {
      const a = kdig(server.port, [
        'api.example.com',
        'A',
        '+subnet=171.64.0.0/24',
        i % 2 ? '+tcp' : '+notcp',
      ]);
      assert.deepEqual(addressesOf(a), ['198.51.100.10']);
    }
    const text = await metricsText(server.admin);
    const total = [...text.matchAll(/^meridian_dns_queries_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.equal(total, 6);
    const health = await (await fetch(`http://${server.admin}/meridian/health`)).json();
    assert.equal(health.workers, 2);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const left = spawnSync('pgrep', ['-f', file], { encoding: 'utf8' }).stdout.trim();
  assert.equal(left, '', 'no worker left behind');
});

test('the plain dgram loop (MERIDIAN_DNS_NATIVE=0) answers as the batched one does', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const { file } = await dnsConfig();
  const server = await startDns(file, ['--listen', '127.0.0.1:0', '--workers', '1'], {
    MERIDIAN_DNS_NATIVE: '0',
  });
  try {
    assert.equal(server.ready.batched, false);
    const a = kdig(server.port, ['api.example.com', 'A', '+subnet=171.64.0.0/24']);
    assert.deepEqual(addressesOf(a), ['198.51.100.10']);
    assert.equal(ecsOf(a)?.scope, 24);
    assert.equal(kdig(server.port, ['nope.example.com', 'A']).RCODE, 3);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('response-rate limiting: a flood from one /24 gets truncated (TC) or dropped, and is counted', async () => {
  const { file } = await dnsConfig((doc) => {
    doc.dns = { rateLimit: { responsesPerSecond: 1, burst: 5, slip: 2 } };
  });
  const server = await startDns(file);
  try {
    const socket = createSocket('udp4');
    const got = { full: 0, truncated: 0 };
    socket.on('message', (msg) => {
      const tc = (msg[2] & 0x02) !== 0;
      got[tc ? 'truncated' : 'full']++;
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const q = packet.encode({ id: 1, type: 'query', questions: [{ name: 'www.example.com', type: 'A' }] });
    for (let i = 0; i < 40; i++) socket.send(q, server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 1000));
    socket.close();
    assert.ok(got.full >= 5 && got.full <= 8, `full answers ${got.full}`);
    assert.ok(got.truncated >= 10, `truncated ${got.truncated}`);
    assert.ok(got.full + got.truncated < 40, 'some dropped');
    const text = await metricsText(server.admin);
    const limited = (action: string) =>
      Number(new RegExp(`meridian_dns_rate_limited_total\\{action="${action}"\\} (\\d+)`).exec(text)?.[1]);
    assert.equal(limited('truncate'), got.truncated);
    assert.ok(limited('drop') > 0);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--control: answers follow the snapshot control streams (us-east-1 DOWN)', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const { file, dir } = await dnsConfig();
  const down = snapshotFromConfig(loadConfig(file), { version: 7, health: new Map([['us-east-1', 'DOWN']]) });
  const control = createServer((req, res) => {
    if (req.url !== '/v1/snapshots/stream' || req.headers.authorization !== 'Bearer s3cret') {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshotToJson(down))}\n\n`);
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  const server = await startDns(file, [
    ...['--listen', '127.0.0.1:0', '--workers', '1'],
    ...['--control', url, '--token', 's3cret', '--state-dir', `${dir}/state`],
  ]);
  try {
    let a = kdig(server.port, ['api.example.com', 'A', '+subnet=128.59.0.0/24']);
    for (let i = 0; i < 50 && addressesOf(a)[0] !== '198.51.100.10'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      a = kdig(server.port, ['api.example.com', 'A', '+subnet=128.59.0.0/24']);
    }
    assert.deepEqual(addressesOf(a), ['198.51.100.10']);
    assert.equal(ecsOf(a)?.scope, 24);
    const txt = kdig(server.port, ['_meridian.api.example.com', 'TXT', '+subnet=128.59.0.0/24']);
    assert.match(String(txt.answerRRs?.[0].rdataTXT), /snapshot=7/);
  } finally {
    assert.equal(await server.stop(), 0);
    control.closeAllConnections();
    control.close();
  }
});

test('bad flags (exit 2) and a bad zone (exit 1) are reported in one line, no stack trace', async () => {
  const { file } = await dnsConfig();
  const run = (args: string[], config = file) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dns', '--config', config, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const badListen = run(['--listen', 'nowhere']);
  assert.equal(badListen.status, 2);
  assert.match(badListen.stderr, /meridian: --listen: expected ADDRESS:PORT/);
  assert.doesNotMatch(badListen.stderr, /\n\s+at /);
  const badWorkers = run(['--workers', 'many']);
  assert.equal(badWorkers.status, 2);
  assert.match(badWorkers.stderr, /--workers expects/);
  const badControl = run(['--control', 'http://127.0.0.1:8300,control-b:8300', '--token', 't']);
  assert.equal(badControl.status, 2);
  assert.match(
    badControl.stderr,
    /meridian: --control expects http\(s\) URLs separated by commas, got "control-b:8300"/,
  );
  assert.doesNotMatch(badControl.stderr, /\n\s+at /);
  const { file: cnameClash } = await dnsConfig((doc) => {
    doc.zone.records = [
      { name: 'www', type: 'CNAME', values: ['api.example.com'] },
      { name: 'www', type: 'TXT', values: ['x'] },
    ];
  });
  const clash = run(['--listen', '127.0.0.1:0', '--workers', '1'], cnameClash);
  assert.equal(clash.status, 1);
  assert.match(
    clash.stderr,
    /meridian: zone.records: a CNAME at www.example.com cannot sit beside other records/,
  );
});
