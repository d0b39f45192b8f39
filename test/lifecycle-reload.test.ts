// SIGHUP on each daemon, started from source as a user runs it: the changed
// config takes effect live; a broken config is logged and the old one kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { closeServer, startOrigin } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';
import { editYaml, getJson, logLine, startDaemon, waitFor } from './lifecycle-support.js';
import { replicationConfigFile, startTwoRegionsOnNats } from './replication-helpers.js';

const BROKEN = 'zone:\n  name: example.com\n  ttl: "soon"\n';

test('meridian dns: SIGHUP serves the changed record; a broken file keeps the old zone', async () => {
  const cfg = await configWithFreePorts();
  editYaml(cfg.file, (doc) => {
    doc.zone.records = [{ name: 'www', type: 'A', values: ['192.0.2.80'] }];
    // The file is not polled during the test: only SIGHUP can load it.
    doc.zone.reloadInterval = '1h';
  });
  const dns = await startDaemon([
    ...['dns', '--config', cfg.file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'],
  ]);
  try {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([String((dns.ready.udp as string[])[0])]);
    assert.deepEqual(await resolver.resolve4('www.example.com'), ['192.0.2.80']);

    editYaml(cfg.file, (doc) => {
      doc.zone.records = [{ name: 'www', type: 'A', values: ['192.0.2.81'] }];
      doc.dns = { listen: ['127.0.0.1:1'] };
    });
    dns.child.kill('SIGHUP');
    const reloaded = await logLine(dns, 'config reloaded');
    assert.ok((reloaded.changed as string[]).includes('zone.records'), JSON.stringify(reloaded));
    assert.deepEqual(reloaded.needsRestart, ['dns.listen']);
    await waitFor('the new record', async () => {
      const a = await resolver.resolve4('www.example.com');
      return a[0] === '192.0.2.81' ? a : undefined;
    });

    writeFileSync(cfg.file, BROKEN);
    dns.child.kill('SIGHUP');
    const failed = await logLine(dns, 'config reload failed');
    assert.match(JSON.stringify(failed.err), /zone\.ttl/);
    assert.equal(dns.child.exitCode, null, 'still running');
    assert.deepEqual(await resolver.resolve4('www.example.com'), ['192.0.2.81']);
  } finally {
    dns.child.kill('SIGTERM');
    assert.equal(await dns.exited, 0);
  }
});

test('meridian dns with two workers: SIGHUP reaches every worker', async () => {
  const cfg = await configWithFreePorts();
  editYaml(cfg.file, (doc) => {
    doc.zone.records = [{ name: 'www', type: 'A', values: ['192.0.2.80'] }];
    doc.zone.reloadInterval = '1h';
  });
  const dns = await startDaemon([
    ...['dns', '--config', cfg.file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '2'],
  ]);
  try {
    editYaml(cfg.file, (doc) => {
      doc.zone.records = [{ name: 'www', type: 'A', values: ['192.0.2.82'] }];
    });
    dns.child.kill('SIGHUP');
    await logLine(dns, 'config reloaded');
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([String((dns.ready.udp as string[])[0])]);
    // Each query may reach either worker: ask until many answers in a row are the new one.
    let inARow = 0;
    await waitFor('every worker answering the new record', async () => {
      const a = await resolver.resolve4('www.example.com');
      inARow = a[0] === '192.0.2.82' ? inARow + 1 : 0;
      return inARow >= 20 ? true : undefined;
    });
    assert.equal(dns.child.exitCode, null);
  } finally {
    dns.child.kill('SIGTERM');
    assert.equal(await dns.exited, 0);
  }
});

for (const workers of [1, 2]) {
  test(`meridian edge, ${workers} worker(s): SIGHUP routes to the new origin; a broken file keeps the old routes`, async () => {
    const cfg = await configWithFreePorts();
    const servers: Server[] = [];
    const origin = (name: string) => (_req: unknown, res: import('node:http').ServerResponse) =>
      void res.end(name);
    servers.push(await startOrigin(cfg.port(9101), origin('old')));
    servers.push(await startOrigin(cfg.port(9102), origin('old')));
    const fresh = await startOrigin(0, origin('new'));
    servers.push(fresh);
    editYaml(cfg.file, (doc) => {
      doc.zone.reloadInterval = '1h';
    });
    const edge = await startDaemon([
      ...['edge', '--config', cfg.file, '--region', 'us-east-1'],
      ...['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', String(workers)],
    ]);
    const ask = async () => {
      const res = await request(`http://${edge.ready.listen}/`, { headers: { host: 'api.example.com' } });
      return { status: res.statusCode, body: await res.body.text() };
    };
    try {
      assert.deepEqual(await ask(), { status: 200, body: 'old' });
      editYaml(cfg.file, (doc) => {
        doc.services[0].origins[0].urls = [`http://127.0.0.1:${fresh.port}`];
      });
      edge.child.kill('SIGHUP');
      const reloaded = await logLine(edge, 'config reloaded');
      assert.deepEqual(reloaded.changed, ['services']);
      // With two workers each request may reach either: ask until many answers in a row are the new origin's.
      let inARow = 0;
      await waitFor('every worker on the new origin', async () => {
        inARow = (await ask()).body === 'new' ? inARow + 1 : 0;
        return inARow >= 20 ? true : undefined;
      });

      writeFileSync(cfg.file, BROKEN);
      edge.child.kill('SIGHUP');
      await logLine(edge, 'config reload failed');
      assert.equal(edge.child.exitCode, null, 'still running');
      assert.deepEqual(await ask(), { status: 200, body: 'new' });
    } finally {
      edge.child.kill('SIGTERM');
      assert.equal(await edge.exited, 0);
      for (const s of servers) await closeServer(s);
    }
  });
}

test('meridian control: SIGHUP changes the RPO it reports; a broken file keeps the old one', async () => {
  const cfg = await configWithFreePorts();
  const token = 'lifecycle-viewer-token-0123456789';
  editYaml(cfg.file, (doc) => {
    doc.control = {
      rpo: '5s',
      tokens: [{ name: 'viewer', role: 'viewer', token }],
      store: { type: 'sqlite', file: join(cfg.dir, 'control.db') },
    };
  });
  const control = await startDaemon(['control', '--config', cfg.file, '--listen', '127.0.0.1:0']);
  const url = String(control.ready.url);
  const rpo = async () =>
    (await getJson(`${url}/v1/status`, { authorization: `Bearer ${token}` })).body.rpoMs;
  try {
    assert.equal(await rpo(), 5000);
    editYaml(cfg.file, (doc) => {
      doc.control.rpo = '7s';
    });
    control.child.kill('SIGHUP');
    const reloaded = await logLine(control, 'config reloaded');
    assert.deepEqual(reloaded.changed, ['control.rpo']);
    assert.equal(await rpo(), 7000);

    writeFileSync(cfg.file, BROKEN);
    control.child.kill('SIGHUP');
    await logLine(control, 'config reload failed');
    assert.equal(control.child.exitCode, null, 'still running');
    assert.equal(await rpo(), 7000);
  } finally {
    control.child.kill('SIGTERM');
    assert.equal(await control.exited, 0);
  }
});

test('meridian replication: SIGHUP changes the lag probe; a broken file keeps the old one', async (t) => {
  const servers = await startTwoRegionsOnNats(t);
  if (!servers) return;
  const { file } = await replicationConfigFile(servers, 'LIFECYCLE');
  const repl = await startDaemon([
    ...['replication', '--config', file, '--region', 'us-west-2', '--admin', '127.0.0.1:0'],
  ]);
  const probe = async () =>
    (await getJson(`http://${repl.ready.admin}/meridian/health`)).body.probe as { intervalMs: number };
  try {
    assert.equal((await probe()).intervalMs, 200);
    editYaml(file, (doc) => {
      doc.replication.probe.interval = '300ms';
      doc.replication.keyPrefix = 'other:';
    });
    repl.child.kill('SIGHUP');
    const reloaded = await logLine(repl, 'config reloaded');
    assert.deepEqual(reloaded.changed, ['replication.probe']);
    assert.deepEqual(reloaded.needsRestart, ['replication.keyPrefix']);
    assert.equal((await probe()).intervalMs, 300);

    writeFileSync(file, BROKEN);
    repl.child.kill('SIGHUP');
    await logLine(repl, 'config reload failed');
    assert.equal(repl.child.exitCode, null, 'still running');
    assert.equal((await probe()).intervalMs, 300);
  } finally {
    repl.child.kill('SIGTERM');
    assert.equal(await repl.exited, 0);
  }
});

test('meridian edge with edge.tls: SIGHUP serves the renewed certificate; an unreadable one keeps the old', async (t) => {
  const openssl = requireProgram(t, 'openssl');
  if (!openssl) return;
  const cfg = await configWithFreePorts();
  const cert = join(cfg.dir, 'edge.pem');
  const key = join(cfg.dir, 'edge-key.pem');
  const issue = (cn: string) => {
    const made = spawnSync(openssl, [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`],
      ...['-keyout', key, '-out', cert],
    ]);
    assert.equal(made.status, 0, made.stderr?.toString());
  };
  issue('first.example.com');
  editYaml(cfg.file, (doc) => {
    doc.edge = { tls: { cert, key } };
  });
  const edge = await startDaemon([
    ...['edge', '--config', cfg.file, '--region', 'us-east-1'],
    ...['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
  ]);
  const servedName = async () => {
    const [host, port] = String(edge.ready.listen).split(':');
    const socket = tlsConnect({ host, port: Number(port), rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const cn = socket.getPeerCertificate().subject.CN;
    socket.destroy();
    return cn;
  };
  try {
    assert.equal(await servedName(), 'first.example.com');
    issue('renewed.example.com');
    edge.child.kill('SIGHUP');
    await logLine(edge, 'config reloaded');
    assert.equal(await servedName(), 'renewed.example.com');

    writeFileSync(key, 'not a key');
    edge.child.kill('SIGHUP');
    const failed = await logLine(edge, 'config reload failed');
    assert.match(JSON.stringify(failed.err), /edge\.tls/);
    assert.equal(await servedName(), 'renewed.example.com');
  } finally {
    edge.child.kill('SIGTERM');
    assert.equal(await edge.exited, 0);
  }
});
