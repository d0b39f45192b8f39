// The peers Meridian is measured against: PowerDNS (bind backend) and gdnsd,
// each in its own directory on its own free loopback port, same zone.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryA } from './probe.js';

export interface Peer {
  name: string;
  port: number;
  close(): Promise<void>;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

async function waitForAnswer(name: string, port: number, child: ChildProcess, log: () => string) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${log()}`);
    if (await queryA(port, 'api.example.com', 300)) return;
  }
  throw new Error(`${name} did not answer on port ${port}: ${log()}`);
}

function spawnLogged(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => out };
}

export async function startPowerDns(dir: string, port: number, zoneText: string): Promise<Peer> {
  mkdirSync(dir, { recursive: true });
  const zoneFile = join(dir, 'example.com.zone');
  writeFileSync(zoneFile, zoneText);
  writeFileSync(join(dir, 'named.conf'), `zone "example.com" { type master; file "${zoneFile}"; };\n`);
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=bind',
      `bind-config=${join(dir, 'named.conf')}`,
      'local-address=127.0.0.1',
      `local-port=${port}`,
      `socket-dir=${dir}`,
      'daemon=no',
      'guardian=no',
      'disable-syslog=yes',
      'loglevel=3',
      'webserver=no',
      'api=no',
      '',
    ].join('\n'),
  );
  const { child, log } = spawnLogged('pdns_server', [`--config-dir=${dir}`]);
  await waitForAnswer('pdns_server', port, child, log);
  return { name: 'powerdns', port, close: () => stop(child) };
}

export async function startGdnsd(dir: string, port: number, zoneText: string): Promise<Peer> {
  mkdirSync(join(dir, 'zones'), { recursive: true });
  writeFileSync(join(dir, 'zones', 'example.com'), zoneText.replace(/^\$ORIGIN.*\n/m, ''));
  writeFileSync(
    join(dir, 'config'),
    `options => {\n  listen => [ 127.0.0.1:${port} ]\n  run_dir => ${join(dir, 'run')}\n  state_dir => ${join(dir, 'state')}\n}\n`,
  );
  const { child, log } = spawnLogged('gdnsd', ['-c', dir, 'start']);
  await waitForAnswer('gdnsd', port, child, log);
  return { name: 'gdnsd', port, close: () => stop(child) };
}
