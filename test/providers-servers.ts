// Real PowerDNS, BIND and Knot instances for the provider tests: each in its
// own temp dir, on free loopback ports, stopped by close().
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from './helpers/ports.js';

export const ZONE = 'example.com';
const ZONE_FILE = `$TTL 300
@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 604800 60
@ IN NS ns1.example.com.
ns1 IN A 192.0.2.53
`;

export interface RunningServer {
  port: number;
  dir: string;
  close(): Promise<void>;
}

function stop(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * `dig +short` against 127.0.0.1:port; sorted answer lines. Three tries of 3 s:
 * on a machine busy with other suites a server may miss one 2 s window, and an
 * empty answer here would read as wrong records.
 */
export function dig(port: number, name: string, type = 'A', tcp = false): string[] {
  const r = spawnSync(
    'dig',
    ['+short', '+tries=3', '+time=3', ...(tcp ? ['+tcp'] : []), '-p', String(port), '@127.0.0.1', name, type],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout.split('\n').filter(Boolean).sort();
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  child: ChildProcess,
  log: () => string,
  dir: string,
) {
  const fail = (why: string) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return new Error(`${what} ${why}: ${log()}`);
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw fail('exited');
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw fail('did not start');
}

// Both transports: updates and the provider's reads go over TCP.
const soaUp = (port: number) => dig(port, ZONE, 'SOA').length > 0 && dig(port, ZONE, 'SOA', true).length > 0;

/**
 * Starts a server, again on fresh ports when it fails: a free port can be
 * taken by another test between freePort() and the server binding it.
 */
async function withRetries<T>(start: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (e) {
      if (i >= tries) throw e;
    }
  }
}

export function startPdns(bin: string, apiKey = randomBytes(12).toString('hex')) {
  return withRetries(() => startPdnsOnce(bin, apiKey));
}

async function startPdnsOnce(bin: string, apiKey: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-pdns-'));
  const [port, apiPort] = [await freePort(), await freePort()];
  const db = new Database(join(dir, 'pdns.sqlite3'));
  db.exec(readFileSync('/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql', 'utf8'));
  db.close();
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=gsqlite3',
      `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
      'local-address=127.0.0.1',
      `local-port=${port}`,
      'webserver=yes',
      'webserver-address=127.0.0.1',
      `webserver-port=${apiPort}`,
      'webserver-allow-from=127.0.0.0/8',
      'api=yes',
      `api-key=${apiKey}`,
      `socket-dir=${dir}`,
      'enable-lua-records=yes',
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'receiver-threads=1',
      'distributor-threads=1',
      'cache-ttl=0',
      'query-cache-ttl=0',
      'negquery-cache-ttl=0',
      'zone-cache-refresh-interval=0',
    ].join('\n'),
  );
  let log = '';
  const child = spawn(bin, [`--config-dir=${dir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const headers = { 'X-API-Key': apiKey, 'content-type': 'application/json' };
  await waitFor(
    'pdns_server',
    () =>
      fetch(`${apiUrl}/api/v1/servers/localhost`, { headers }).then(
        (r) => r.ok,
        () => false,
      ),
    child,
    () => log,
    dir,
  );
  const res = await fetch(`${apiUrl}/api/v1/servers/localhost/zones`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: `${ZONE}.`, kind: 'Native', nameservers: [`ns1.${ZONE}.`] }),
  });
  if (!res.ok) throw new Error(`creating the zone: ${await res.text()}`);
  await waitFor(
    'pdns_server (DNS port)',
    () => soaUp(port),
    child,
    () => log,
    dir,
  );
  return { port, dir, apiUrl, apiKey, close: () => stop(child, dir) };
}

export const tsigSecret = () => randomBytes(32).toString('base64');

export function startNamed(bin: string, secret: string, keyName = 'meridian-key') {
  return withRetries(() => startNamedOnce(bin, secret, keyName));
}

async function startNamedOnce(bin: string, secret: string, keyName: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-named-'));
  const port = await freePort();
  writeFileSync(join(dir, `${ZONE}.zone`), ZONE_FILE);
  writeFileSync(
    join(dir, 'named.conf'),
    `options { directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };
  pid-file "${dir}/named.pid"; recursion no; dnssec-validation no; session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}"; };
key "${keyName}" { algorithm hmac-sha256; secret "${secret}"; };
controls { };
zone "${ZONE}" { type primary; file "${dir}/${ZONE}.zone"; allow-update { key "${keyName}"; }; };
`,
  );
  let log = '';
  const child = spawn(bin, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (d) => (log += d));
  await waitFor(
    'named',
    () => soaUp(port),
    child,
    () => log,
    dir,
  );
  return { port, dir, close: () => stop(child, dir) } satisfies RunningServer;
}

export function startKnot(bin: string, secret: string, keyName = 'meridian-key') {
  return withRetries(() => startKnotOnce(bin, secret, keyName));
}

async function startKnotOnce(bin: string, secret: string, keyName: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-knot-'));
  const port = await freePort();
  const storage = join(dir, 'data');
  mkdirSync(storage);
  writeFileSync(join(storage, `${ZONE}.zone`), ZONE_FILE);
  writeFileSync(
    join(dir, 'knot.conf'),
    `server:
  listen: 127.0.0.1@${port}
  rundir: ${dir}
  pidfile: ${dir}/knot.pid
  background-workers: 1
  udp-workers: 1
  tcp-workers: 1
control:
  listen: ${dir}/knot.sock
database:
  storage: ${storage}
key:
  - id: ${keyName}
    algorithm: hmac-sha256
    secret: ${secret}
acl:
  - id: update
    key: ${keyName}
    action: update
template:
  - id: default
    storage: ${storage}
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: ${ZONE}
    acl: update
`,
  );
  let log = '';
  const child = spawn(bin, ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (d) => (log += d));
  child.stdout?.on('data', (d) => (log += d));
  await waitFor(
    'knotd',
    () => existsSync(join(dir, 'knot.pid')) && soaUp(port),
    child,
    () => log,
    dir,
  );
  return { port, dir, close: () => stop(child, dir) } satisfies RunningServer;
}
