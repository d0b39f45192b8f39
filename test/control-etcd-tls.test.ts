// Control's etcd store across etcd's trust boundary: a real etcd started with
// --client-cert-auth (TLS, client certificates signed by a test CA) and
// authentication enabled (a user whose role may only touch its prefix).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { openStore, type StateStore } from '../src/control/store/index.js';
import { isMeridianError } from '../src/errors.js';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, TOKENS } from './control-fixtures.js';
import {
  type EtcdCluster,
  enableEtcdAuth,
  runCliAsync,
  startEtcdCluster,
  waitFor,
} from './control-helpers.js';
import { state, storeConformance } from './control-store-suite.js';
import { makeTestPki, type TestPki } from './helpers/certs.js';
import { startMeridian } from './helpers/cli.js';
import { findProgram, requireProgram } from './helpers/programs.js';

const PASSWORD = `etcd-pw-${randomBytes(12).toString('hex')}`;
const PREFIX = `/meridian-tls-${process.pid}/`;
// Short-lived auth tokens (etcd --auth-token-ttl, seconds) so that token renewal happens during the tests.
const TOKEN_TTL_S = 1;

interface SecureEtcd {
  cluster: EtcdCluster;
  pki: TestPki;
  dir: string;
}
let starting: Promise<SecureEtcd | null> | undefined;
let secure: SecureEtcd | null = null;

/** One etcd member with TLS and auth, started on first use; null (test skipped) without the programs. */
function secureEtcd(): Promise<SecureEtcd | null> {
  starting ??= (async () => {
    const fakeT = { skip: () => {} } as never;
    const programs = ['etcd', 'etcdctl', 'openssl'].map((p) => requireProgram(fakeT, p));
    if (programs.some((p) => !p)) return null;
    const [etcd, etcdctl, openssl] = programs as string[];
    const dir = mkdtempSync(join(tmpdir(), 'meridian-etcd-tls-'));
    const pki = makeTestPki(openssl, dir);
    const cluster = await startEtcdCluster(etcd, 1, { pki, extraArgs: [`--auth-token-ttl=${TOKEN_TTL_S}`] });
    secure = { cluster, pki, dir };
    enableEtcdAuth(etcdctl, cluster, pki, { name: 'meridian', password: PASSWORD, prefix: PREFIX });
    return secure;
  })();
  return starting;
}

after(async () => {
  await secure?.cluster.stop();
});

const missing = () =>
  ['etcd', 'etcdctl', 'openssl'].filter((p) => !findProgram(p)).join(', ') + ' not installed';

/** The store section a user would write: PEM paths and the password in a file. */
function storeSection(s: SecureEtcd, overrides: Record<string, unknown> = {}) {
  const passwordFile = join(s.dir, 'etcd-password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  return {
    type: 'etcd',
    endpoints: s.cluster.endpoints,
    prefix: PREFIX,
    leaseTtl: '2s',
    tls: { ca: s.pki.ca, cert: s.pki.clientCert, key: s.pki.clientKey },
    auth: { user: 'meridian', passwordFile },
    ...overrides,
  };
}

const storeFromSection = (section: Record<string, unknown>, warn?: (message: string) => void) =>
  openStore(loadConfig(controlConfigFile({ store: section }).file).control, undefined, { env: {}, warn });

storeConformance('etcd over TLS with client certificates and user/password auth', async () => {
  const s = await secureEtcd();
  return s && storeFromSection(storeSection(s));
});

async function refusal(store: StateStore) {
  try {
    await store.load();
  } catch (e) {
    return e as Error;
  } finally {
    await store.close();
  }
  assert.fail('etcd accepted a client it should refuse');
}

test('without a client certificate etcd refuses the connection', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const e = await refusal(storeFromSection(storeSection(s, { tls: { ca: s.pki.ca } })));
  assert.ok(isMeridianError(e) && e.code === 'CONTROL_UNREACHABLE', String(e));
  assert.match(e.message, new RegExp(s.cluster.endpoints[0].replace(/[.]/g, '\\.')));
  assert.match(e.message, /control\.store\.tls\.cert/);
  t.diagnostic(e.message);
});

test('with a client certificate but no etcd user, nothing is readable', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const e = await refusal(storeFromSection(storeSection(s, { auth: undefined })));
  assert.ok(isMeridianError(e) && e.code === 'STORE_AUTH', String(e));
  assert.match(e.message, /set control\.store\.auth/);
});

test('a user outside its role’s prefix is denied, with what to grant', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const e = await refusal(storeFromSection(storeSection(s, { prefix: '/elsewhere/' })));
  assert.ok(isMeridianError(e) && e.code === 'STORE_AUTH', String(e));
  assert.match(e.message, /denied .*user "meridian".*control\.store\.prefix/);
});

test('a token etcd let expire is renewed without the caller noticing', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const store = storeFromSection(storeSection(s));
  const dispatcher = new Agent({
    connect: {
      ca: readFileSync(s.pki.ca),
      cert: readFileSync(s.pki.clientCert),
      key: readFileSync(s.pki.clientKey),
    },
  });
  try {
    const v = (await store.load())?.version ?? 0;
    const auth = await request(`${s.cluster.endpoints[0]}/v3/auth/authenticate`, {
      method: 'POST',
      body: JSON.stringify({ name: 'meridian', password: PASSWORD }),
      dispatcher,
    });
    const { token } = (await auth.body.json()) as { token: string };
    // Idle for three TTLs (a lower bound only: a slow machine waits longer, which expires tokens more surely).
    await new Promise((r) => setTimeout(r, 3 * TOKEN_TTL_S * 1000 + 500));
    const stale = await request(`${s.cluster.endpoints[0]}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(`${PREFIX}state`).toString('base64') }),
      headers: { authorization: token },
      dispatcher,
    });
    assert.equal(stale.statusCode, 401, 'the idle token has expired in etcd');
    await stale.body.dump();
    assert.equal(await store.commit(v, state(v + 1, 33)), true, 'the store authenticated again');
    assert.equal((await store.load())?.snapshot.regions[0].dial, 33);
  } finally {
    await store.close();
    await dispatcher.close();
  }
});

test('etcd without auth: a warning, then the user is used once auth is enabled', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const etcd = findProgram('etcd')!;
  const open = await startEtcdCluster(etcd, 1, { pki: s.pki });
  const warnings: string[] = [];
  let store: StateStore | undefined;
  try {
    store = storeFromSection(storeSection(s, { endpoints: open.endpoints }), (m) => warnings.push(m));
    assert.equal(await store.commit(0, state(1)), true);
    assert.match(warnings.join('\n'), /etcd has authentication disabled/);
    enableEtcdAuth(findProgram('etcdctl')!, open, s.pki, {
      name: 'meridian',
      password: PASSWORD,
      prefix: PREFIX,
    });
    assert.equal(await store.commit(1, state(2)), true, 'authenticated once etcd asked for it');
  } finally {
    await store?.close();
    await open.stop();
  }
});

test('meridian control: a wrong password fails clearly, without a stack or the password', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const wrong = `wrong-${PASSWORD}`;
  const { file } = controlConfigFile({
    store: storeSection(s, { auth: { user: 'meridian', passwordEnv: 'MERIDIAN_ETCD_PASSWORD' } }),
  });
  const r = await runCliAsync(['control', '--config', file, '--listen', '127.0.0.1:0'], {
    MERIDIAN_ETCD_PASSWORD: wrong,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /etcd refused user "meridian" \(control\.store\.auth\)/);
  assert.match(r.stderr, /invalid user ID or password/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.ok(!(r.stdout + r.stderr).includes(wrong), 'the password is not printed');
});

test('meridian control runs on the secured etcd; its logs never hold the password', async (t) => {
  const s = await secureEtcd();
  if (!s) return t.skip(missing());
  const { file, dir } = controlConfigFile({
    store: storeSection(s, { auth: { user: 'meridian', passwordEnv: 'MERIDIAN_ETCD_PASSWORD' } }),
  });
  const control = await startMeridian(
    'control',
    ['control', '--config', file, '--listen', '127.0.0.1:0'],
    dir,
    {
      MERIDIAN_ETCD_PASSWORD: PASSWORD,
      MERIDIAN_LOG_LEVEL: 'debug',
    },
  );
  try {
    const url = String(control.ready.url);
    // A lone control on etcd leads once its first campaign tick wins the leader key.
    await waitFor(async () => (await api(url, 'GET', '/v1/health')).json.isLeader === true, 10_000);
    const dial = await api(url, 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 70 });
    assert.equal(dial.status, 200, JSON.stringify(dial.json));
    const status = await api(url, 'GET', '/v1/status', TOKENS.viewer);
    assert.equal((status.json.regions as { dial: number }[])[0].dial, 70);
    assert.ok(!JSON.stringify(status.json).includes(PASSWORD));
  } finally {
    await stop(control.child);
  }
  // Logs go to stderr (control.log); stdout held only the ready line.
  const logs = `${JSON.stringify(control.ready)}\n${readFileSync(join(dir, 'control.log'), 'utf8')}`;
  assert.match(logs, /us-east-1/, 'the logs were captured');
  assert.ok(!logs.includes(PASSWORD), 'the etcd password is not in any log line');
});
