// deploy/systemd: every unit passes `systemd-analyze verify` and carries the
// settings the Production section promises (non-root, HUP reload, drain time,
// capabilities only where a port below 1024 needs them, hardening).
//
// systemd is not PID 1 here, so verify runs offline against a scratch root:
// the host's own units (for sysinit.target and friends), ours in
// /etc/systemd/system and stand-ins for the programs ExecStart/ExecReload name
// (verify checks they are executable). Verify exits 0 on an unknown key or a
// bad value (it only warns), so any line naming one of our units fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireProgram } from './helpers/programs.js';

const DIR = 'deploy/systemd';
const UNITS = {
  'meridian-dns.service': { command: 'dns', instance: 'meridian-dns.service', lowPorts: true },
  'meridian-edge@.service': { command: 'edge', instance: 'meridian-edge@us-east-1.service', lowPorts: true },
  'meridian-control.service': { command: 'control', instance: 'meridian-control.service', lowPorts: false },
  'meridian-replication@.service': {
    command: 'replication',
    instance: 'meridian-replication@us-east-1.service',
    lowPorts: false,
  },
} as const;
type UnitFile = keyof typeof UNITS;

/** `Key=value` lines of the [Service] section (a key may repeat). */
function serviceKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    else if (section === '[Service]' && line !== '' && !line.startsWith('#')) {
      const at = line.indexOf('=');
      const key = line.slice(0, at);
      keys.set(key, [...(keys.get(key) ?? []), line.slice(at + 1)]);
    }
  }
  return keys;
}

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function scratchRoot(units: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'meridian-systemd-'));
  roots.push(root);
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const [name, text] of Object.entries(units))
    writeFileSync(join(root, 'etc/systemd/system', name), text);
  for (const program of ['usr/local/bin/meridian', 'bin/kill']) {
    mkdirSync(join(root, program, '..'), { recursive: true });
    writeFileSync(join(root, program), '#!/bin/sh\n');
    chmodSync(join(root, program), 0o755);
  }
  return root;
}

/** Problems verify reports about our unit (empty when it is clean). */
function verify(program: string, root: string, instance: string): string[] {
  const r = spawnSync(program, ['verify', '--man=no', `--root=${root}`, instance], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_LEVEL: 'info', SYSTEMD_PAGER: '' },
  });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('meridian'));
  return r.status === 0 ? lines : [`exit ${r.status}`, ...lines];
}

const read = (file: string) => readFileSync(join(DIR, file), 'utf8');

test('deploy/systemd holds one unit per daemon and a sysusers file', () => {
  const files = readdirSync(DIR).sort();
  assert.deepEqual(files.filter((f) => f.endsWith('.service')).sort(), Object.keys(UNITS).sort());
  assert.match(read('meridian.sysusers.conf'), /^u meridian - /m);
});

for (const [file, expected] of Object.entries(UNITS) as [UnitFile, (typeof UNITS)[UnitFile]][]) {
  test(`${file}: systemd-analyze verify passes`, (t) => {
    const program = requireProgram(t, 'systemd-analyze');
    if (!program) return;
    const root = scratchRoot(Object.fromEntries(Object.keys(UNITS).map((f) => [f, read(f as UnitFile)])));
    assert.deepEqual(verify(program, root, expected.instance), []);
  });

  test(`${file}: non-root, HUP reload, drains within TimeoutStopSec, hardened`, () => {
    const keys = serviceKeys(read(file));
    const one = (key: string) => {
      const values = keys.get(key);
      assert.ok(values && values.length === 1, `${file}: one ${key}=`);
      return values[0];
    };
    const execStart = one('ExecStart').split(/\s+/);
    assert.equal(execStart[0], '/usr/local/bin/meridian');
    assert.equal(execStart[1], expected.command);
    // Every flag the unit passes exists on that command.
    const source = readFileSync(`src/cli/${expected.command}.ts`, 'utf8');
    for (const flag of execStart.filter((a) => a.startsWith('--')))
      assert.ok(source.includes(`'${flag} <`), `${file}: meridian ${expected.command} has no ${flag}`);
    assert.equal(one('User'), 'meridian');
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('KillMode'), 'mixed');
    assert.ok(Number(one('TimeoutStopSec')) > 20, 'TimeoutStopSec above the 20 s drain timeout');
    assert.equal(one('Restart'), 'on-failure');
    assert.ok((keys.get('Environment') ?? []).includes('MERIDIAN_CONFIG=/etc/meridian/meridian.yaml'));
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      SystemCallFilter: '@system-service',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    }))
      assert.equal(one(key), value, `${file}: ${key}`);
    // V8's JIT needs writable+executable memory: Node.js aborts under MemoryDenyWriteExecute.
    assert.equal(keys.get('MemoryDenyWriteExecute'), undefined);
    const caps = expected.lowPorts ? 'CAP_NET_BIND_SERVICE' : '';
    assert.equal(one('AmbientCapabilities'), caps);
    assert.equal(one('CapabilityBoundingSet'), caps);
  });
}

test('systemd-analyze verify catches a broken unit (a typo in a key, a bad value, a missing program)', (t) => {
  const program = requireProgram(t, 'systemd-analyze');
  if (!program) return;
  const good = read('meridian-edge@.service');
  const broken = {
    'a misspelt key': good.replace('ProtectHome=yes', 'ProtecHome=yes'),
    'a bad value': good.replace('Restart=on-failure', 'Restart=on-failur'),
    'a missing program': good.replace('/usr/local/bin/meridian', '/usr/local/bin/meridain'),
  };
  for (const [what, text] of Object.entries(broken)) {
    const root = scratchRoot({ 'meridian-edge@.service': text });
    assert.notDeepEqual(verify(program, root, 'meridian-edge@us-east-1.service'), [], what);
  }
});
