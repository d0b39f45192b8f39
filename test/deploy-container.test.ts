// deploy/container: container engines cannot run here, so this checks what the
// image promises on this machine: the package as packed and installed by
// `npm install -g`, mounted read-only, run as a non-root user with an
// unwritable HOME and working directory and only TMPDIR and the state folder
// writable, with the arguments the Kubernetes manifests give the image's
// ENTRYPOINT ["meridian"]. Each daemon must become ready and nothing may be
// written into the install. The Dockerfile's structure is checked too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { installPacked } from './helpers/installed.js';
import { freePort } from './helpers/ports.js';
import { requireProgram } from './helpers/programs.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Obj = Record<string, any>;

const DOCKERFILE = 'deploy/container/Dockerfile';
const REGION = 'us-east-1';
const USER = 'nobody';
const GROUP = 'nogroup';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The containers of the Kubernetes base, by the daemon they run (their first argument). */
function containersByDaemon(): Map<string, Obj> {
  const byDaemon = new Map<string, Obj>();
  const dir = 'deploy/kubernetes/base';
  for (const file of readdirSync(dir))
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const o = doc.toJS() as Obj;
      for (const c of o?.spec?.template?.spec?.containers ?? []) byDaemon.set(c.args[0], c);
    }
  return byDaemon;
}

/** Every file under dir with its size and mtime, to see that nothing was written. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p, { throwIfNoEntry: false });
      if (!s) continue;
      out.set(p, `${s.size}:${s.mtimeMs}:${s.mode}`);
      if (s.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups.reverse()) c();
});

test('the Dockerfile: multi-stage on node:20-bookworm-slim, npm pack then npm install -g, non-root, ENTRYPOINT meridian', () => {
  const steps = instructions(readFileSync(DOCKERFILE, 'utf8'));
  const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(' ')[0]);
  assert.ok(froms.length >= 2, 'multi-stage');
  assert.ok(
    froms.every((f) => f === 'node:20-bookworm-slim'),
    froms.join(', '),
  );
  const lastFrom = steps.map((s) => s.op).lastIndexOf('FROM');
  const runtime = steps.slice(lastFrom);
  const build = steps.slice(0, lastFrom);
  const runs = build.filter((s) => s.op === 'RUN').map((s) => s.args);
  assert.ok(
    runs.some((r) => /npm ci\b/.test(r) && /npm pack\b/.test(r) && /npm install -g\b.*\.tgz/.test(r)),
  );
  const last = (op: string) => runtime.filter((s) => s.op === op).at(-1)?.args;
  const user = last('USER');
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
  assert.equal(last('ENTRYPOINT'), '["meridian"]');
  // The runtime stage takes the installed prefix from the build stage, and finds `meridian` on PATH.
  assert.ok(
    runtime.some((s) => s.op === 'COPY' && /^--from=build \/opt\/meridian \/opt\/meridian$/.test(s.args)),
  );
  assert.match(last('ENV') ?? '', /PATH=\/opt\/meridian\/bin:/);
  assert.equal(last('WORKDIR'), '/var/lib/meridian');
  assert.equal(last('VOLUME'), '["/var/lib/meridian"]');
  assert.match(last('ENV') ?? '', /MERIDIAN_CONFIG=\/etc\/meridian\/meridian\.yaml/);
  assert.match(last('HEALTHCHECK') ?? '', /healthcheck\.mjs/);
  assert.ok(existsSync('deploy/container/healthcheck.mjs'));
  // The ports the manifests use are the ones the image exposes.
  const exposed = new Set(last('EXPOSE')?.split(' '));
  for (const c of containersByDaemon().values())
    for (const p of c.ports)
      assert.ok(
        exposed.has(`${p.containerPort}/${p.protocol.toLowerCase()}`) ||
          (p.protocol === 'TCP' && exposed.has(String(p.containerPort))),
        `${c.name} port ${p.containerPort}`,
      );
});

test('the image commands run from a read-only install as a non-root user and become ready', async (t) => {
  if (!requireProgram(t, 'setpriv')) return;
  const installed = installPacked((line) => t.diagnostic(line));

  // A read-only view of the install, as the image's root filesystem is. Where bind mounts are not
  // allowed the install itself is used: root owns it, so the non-root user cannot write it either.
  let root = installed.prefix;
  const view = mkdtempSync(join(tmpdir(), 'meridian-ro-'));
  chmodSync(view, 0o755);
  cleanups.push(() => rmSync(view, { recursive: true, force: true }));
  if (spawnSync('mount', ['--bind', installed.prefix, view]).status === 0) {
    cleanups.push(() => spawnSync('umount', [view]));
    const ro = spawnSync('mount', ['-o', 'remount,ro,bind', view], { encoding: 'utf8' });
    assert.equal(ro.status, 0, `remount ro: ${ro.stderr}`);
    root = view;
  } else t.diagnostic('mount --bind not allowed: running the root-owned install as it is');
  assert.equal(statSync(join(root, 'lib/node_modules/meridian')).uid, 0);
  const before = snapshot(installed.prefix);

  // The only writable places: TMPDIR (the image's tmpfs) and a state folder per daemon (its volume).
  const work = mkdtempSync(join(tmpdir(), 'meridian-container-'));
  chmodSync(work, 0o777);
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const bin = join(root, 'bin', 'meridian');
  const env = {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    TMPDIR: work,
    NODE_ENV: 'production',
    MERIDIAN_AGENT_TOKEN: 'agent-token-for-the-container-test',
    MERIDIAN_OPERATOR_TOKEN: 'operator-token-for-the-container-test',
    MERIDIAN_EDGE_PEERS_KEY: 'peers-key-for-the-container-test',
    MERIDIAN_TOKEN: 'agent-token-for-the-container-test',
  };
  const asNobody = ['--reuid', USER, '--regid', GROUP, '--clear-groups', '--', bin];
  const run = (args: string[]) =>
    spawnSync('setpriv', [...asNobody, ...args], { cwd: '/', env, encoding: 'utf8', timeout: 60_000 });

  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);

  // The region's config from the Kubernetes overlay, with what cannot run here swapped out:
  // SQLite instead of the etcd cluster, no Redis/NATS, loopback instead of public URLs.
  const config = parse(readFileSync(`deploy/kubernetes/overlays/${REGION}/meridian.yaml`, 'utf8')) as Obj;
  const controlPort = await freePort();
  config.control.store = { type: 'sqlite', file: join(work, 'control.db') };
  delete config.control.url;
  delete config.replication;
  const configFile = join(work, 'meridian.yaml');
  writeFileSync(configFile, stringify(config), { mode: 0o644 });
  const validate = run(['validate', configFile]);
  assert.equal(validate.status, 0, validate.stdout + validate.stderr);

  const containers = containersByDaemon();
  const children: ChildProcess[] = [];
  cleanups.push(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
  const start = async (daemon: string) => {
    const c = containers.get(daemon)!;
    const ports = new Map<string, number>();
    const args: string[] = [];
    for (const a of c.args as string[]) {
      const m = /^0\.0\.0\.0:(\d+)$/.exec(a);
      if (daemon === 'control' && m) {
        ports.set(m[1], controlPort);
        args.push(`127.0.0.1:${controlPort}`);
      } else if (m) {
        const port = await freePort();
        ports.set(m[1], port);
        args.push(`127.0.0.1:${port}`);
      } else if (a === '/var/lib/meridian') args.push(join(work, `state-${daemon}`));
      else args.push(a.replace('$(MERIDIAN_REGION)', REGION));
    }
    const child = spawn('setpriv', [...asNobody, ...args], {
      cwd: '/',
      env: {
        ...env,
        MERIDIAN_CONFIG: configFile,
        MERIDIAN_CONTROL: `http://127.0.0.1:${controlPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    children.push(child);
    const admin = ports.get(String(c.readinessProbe.httpGet.port));
    assert.ok(admin, `${daemon}: the probed port is one it binds`);
    return { child, admin, output: () => output, probe: c.readinessProbe.httpGet.path as string };
  };

  /** 200 from the readiness path; where a daemon on main lacks it (404), its liveness path. */
  const ready = async (name: string, d: Awaited<ReturnType<typeof start>>, fallbacks: string[]) => {
    const deadline = Date.now() + 30_000;
    let paths = [d.probe, ...fallbacks];
    while (Date.now() < deadline) {
      assert.equal(d.child.exitCode, null, `${name} exited: ${d.output()}`);
      const res = await fetch(`http://127.0.0.1:${d.admin}${paths[0]}`).catch(() => null);
      if (res?.status === 200) return paths[0];
      if (res?.status === 404 && paths.length > 1) paths = paths.slice(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${name} not ready on ${paths[0]}: ${d.output()}`);
  };

  const control = await start('control');
  const controlReady = await ready('control', control, ['/meridian/health', '/v1/health']);
  const dns = await start('dns');
  const edge = await start('edge');
  const dnsReady = await ready('dns', dns, ['/meridian/health']);
  const edgeReady = await ready('edge', edge, ['/meridian/health']);
  for (const [name, path] of Object.entries({ control: controlReady, dns: dnsReady, edge: edgeReady }))
    if (path !== '/meridian/ready')
      t.diagnostic(`${name}: no /meridian/ready on this tree yet; ${path} answered`);

  // SIGTERM: each drains and exits 0, as Kubernetes and systemd stop them.
  for (const d of [edge, dns, control]) {
    const exited = new Promise<number | null>((r) => d.child.once('exit', (code) => r(code)));
    d.child.kill('SIGTERM');
    assert.equal(await exited, 0, d.output());
  }
  assert.deepEqual(snapshot(installed.prefix), before, 'nothing was written into the install');
  assert.ok(existsSync(join(work, 'control.db')), 'control wrote its state where it was told');
});
