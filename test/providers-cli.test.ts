// The commands as a user runs them: dns-providers list, dns sync (once and
// --watch) against a real BIND, and `meridian dns` still serving.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { runCli } from './helpers/cli.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';
import { dig, startNamed, tsigSecret } from './providers-servers.js';

test('dns-providers list --json states what each provider supports', () => {
  const r = runCli(['dns-providers', 'list', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const { providers } = JSON.parse(r.stdout);
  const byName = new Map(providers.map((p: { name: string }) => [p.name, p]));
  assert.deepEqual([...byName.keys()], ['builtin', 'powerdns', 'rfc2136', 'route53']);
  assert.deepEqual(byName.get('rfc2136'), {
    ...(byName.get('rfc2136') as object),
    geo: false,
    weighted: false,
    defaultSteering: 'plain',
  });
  assert.equal((byName.get('route53') as { geoCodes: string }).geoCodes, 'country+us-subdivision');
});

test('dns sync: preview by default, --apply, --detailed-exitcode, --watch follows an evacuation in the config file; secrets never printed', async (t) => {
  const named = requireProgram(t, 'named');
  if (!named || !requireProgram(t, 'dig')) return;
  const secret = tsigSecret();
  const server = await startNamed(named, secret);
  t.after(() => server.close());
  const { file } = await configWithFreePorts();
  const env = {
    MERIDIAN_DNS_PROVIDER: 'rfc2136',
    MERIDIAN_RFC2136_SERVER: `127.0.0.1:${server.port}`,
    MERIDIAN_TSIG_NAME: 'meridian-key',
    MERIDIAN_TSIG_SECRET: secret,
  };
  const dry = runCli(['dns', 'sync', '--config', file], env);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /\+ api\.example\.com A ttl 30: 192\.0\.2\.10 198\.51\.100\.10/);
  assert.match(dry.stdout, /preview: nothing applied \(run again with --apply to apply\)/);
  assert.deepEqual(dig(server.port, 'api.example.com'), [], 'without --apply nothing changes');
  const pending = runCli(['dns', 'sync', '--config', file, '--detailed-exitcode'], env);
  assert.equal(pending.status, 2, `changes pending: exit 2 under --detailed-exitcode; ${pending.stderr}`);
  assert.deepEqual(dig(server.port, 'api.example.com'), []);
  const both = runCli(['dns', 'sync', '--config', file, '--apply', '--dry-run'], env);
  assert.equal(both.status, 2, 'contradicting flags: a usage error');
  assert.deepEqual(dig(server.port, 'api.example.com'), []);

  // A wrong secret: refused, nothing written.
  const bad = runCli(['dns', 'sync', '--config', file, '--apply'], {
    ...env,
    MERIDIAN_TSIG_SECRET: tsigSecret(),
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^meridian: .*TSIG key meridian-key rejected \(BADSIG\)/);
  assert.deepEqual(dig(server.port, 'api.example.com'), []);

  // Control unreachable and nothing on disk: a one-off sync must not push the config file's state.
  const stateDir = mkdtempSync(join(tmpdir(), 'meridian-sync-state-'));
  const closed = `http://127.0.0.1:${await freePort()}`;
  const noControl = runCli(
    [
      'dns',
      'sync',
      '--apply',
      '--config',
      file,
      '--control',
      closed,
      '--token',
      'x'.repeat(20),
      '--state-dir',
      stateDir,
    ],
    env,
  );
  assert.equal(noControl.status, 1);
  assert.match(noControl.stderr, /meridian: control is unreachable and no snapshot is on disk/);
  assert.deepEqual(dig(server.port, 'api.example.com'), []);

  const once = runCli(['dns', 'sync', '--config', file, '--json', '--apply'], env);
  assert.equal(once.status, 0, once.stderr);
  assert.equal(JSON.parse(once.stdout).applied, true);
  assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  const inSync = runCli(['dns', 'sync', '--config', file, '--detailed-exitcode'], env);
  assert.equal(inSync.status, 0, `in sync: exit 0 under --detailed-exitcode; ${inSync.stderr}`);
  assert.match(inSync.stdout, /in sync\./);

  for (const out of [dry, once, bad]) assert.ok(!`${out.stdout}${out.stderr}`.includes(secret));

  const watch = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dns',
      'sync',
      '--config',
      file,
      '--watch',
      '--apply',
      '--json',
      '--admin',
      '127.0.0.1:0',
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => watch.kill('SIGKILL'));
  const lines = createInterface({ input: watch.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  assert.equal((await next()).changes.length, 0, 'first pass: already in sync');

  // Evacuate us-east-1 the file way (no control plane): mark it DOWN in meridian.yaml.
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text.replace('    edge: http://127.0.0.1:', '    health: DOWN\n    edge: http://127.0.0.1:'),
  );
  const evacuated = await next();
  assert.equal(evacuated.applied, true);
  assert.deepEqual(dig(server.port, 'api.example.com'), ['198.51.100.10']);
  writeFileSync(file, text);
  await next();
  assert.deepEqual(dig(server.port, 'api.example.com'), ['192.0.2.10', '198.51.100.10']);
  const exited = new Promise((r) => watch.once('exit', r));
  watch.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('meridian dns --config still starts the server (sync is a subcommand beside it)', async (t) => {
  const { file } = await configWithFreePorts();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dns',
      '--config',
      file,
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--workers',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const ready = JSON.parse(first.value as string);
  assert.equal(ready.ready, true);
  assert.equal(ready.part, 'dns');
  // Answering on its admin port means it is past start-up (and its signal handlers are in place).
  const health = await fetch(`http://${ready.admin}/meridian/health`);
  assert.equal(health.status, 200);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test("dns sync pushes each service's own TTL (a real BIND serves it); geo steering warns about its home+fallback", async (t) => {
  const named = requireProgram(t, 'named');
  if (!named || !requireProgram(t, 'dig')) return;
  const secret = tsigSecret();
  const server = await startNamed(named, secret);
  t.after(() => server.close());
  const { file } = await configWithFreePorts();
  const doc = parse(readFileSync(file, 'utf8'));
  doc.services.push({
    ...doc.services[0],
    name: 'www',
    hostname: 'www.example.com',
    ttl: 5,
    answers: 'home+fallback',
  });
  writeFileSync(file, stringify(doc));
  const env = {
    MERIDIAN_DNS_PROVIDER: 'rfc2136',
    MERIDIAN_RFC2136_SERVER: `127.0.0.1:${server.port}`,
    MERIDIAN_TSIG_NAME: 'meridian-key',
    MERIDIAN_TSIG_SECRET: secret,
  };
  const once = runCli(['dns', 'sync', '--config', file, '--apply'], env);
  assert.equal(once.status, 0, once.stderr);
  assert.match(once.stdout, /\+ api\.example\.com A ttl 30: /);
  assert.match(once.stdout, /\+ www\.example\.com A ttl 5: /);
  // plain steering lists every serving region already: nothing to warn about.
  assert.doesNotMatch(once.stdout, /warning/);
  const answer = (name: string) =>
    spawnSync(
      'dig',
      ['+noall', '+answer', '+tries=3', '+time=3', '-p', String(server.port), '@127.0.0.1', name, 'A'],
      {
        encoding: 'utf8',
      },
    )
      .stdout.trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .map(([, ttl, , , address]) => `${ttl} ${address}`)
      .sort();
  assert.deepEqual(answer('www.example.com'), ['5 192.0.2.10', '5 198.51.100.10']);
  assert.deepEqual(answer('api.example.com'), ['30 192.0.2.10', '30 198.51.100.10']);

  const geo = runCli(['dns', 'sync', '--config', file, '--provider', 'builtin', '--steering', 'geo']);
  assert.equal(geo.status, 0, geo.stderr);
  assert.match(geo.stdout, /\+ www\.example\.com A \[us-west-2\] ttl 5 geo /);
  assert.match(
    geo.stdout,
    /warning: steering\.answers home\+fallback \(www\.example\.com\) applies to meridian dns only: builtin geo records/,
  );
});
