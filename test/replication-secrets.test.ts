// `meridian replication` against a Redis that requires a password and a NATS
// server that requires a token: the secrets come from files or the
// environment, never argv, and no error message or log line repeats them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { createReplicatedCache } from '../src/replication/cache.js';
import { connectNatsTransport } from '../src/replication/nats-transport.js';
import { startShipper } from '../src/replication/shipper.js';
import { runCli } from './helpers/cli.js';
import { requireProgram } from './helpers/programs.js';
import { eventually, replicationConfigFile, startNats, startRedis } from './replication-helpers.js';

const REDIS_PASSWORD = `redis-${randomBytes(12).toString('hex')}`;
const NATS_TOKEN = `nats-${randomBytes(12).toString('hex')}`;

test('meridian replication: Redis password and NATS token from files or env, not argv', async (t) => {
  const redisServer = requireProgram(t, 'redis-server');
  const natsServer = redisServer && requireProgram(t, 'nats-server');
  if (!redisServer || !natsServer) return;
  const auth = ['--requirepass', REDIS_PASSWORD];
  const [east, west, nats] = await Promise.all([
    startRedis(redisServer, auth),
    startRedis(redisServer, auth),
    startNats(natsServer, ['--auth', NATS_TOKEN]),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-repl-secrets-'));
  t.after(async () => {
    await Promise.all([east.stop(), west.stop(), nats.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const { file } = await replicationConfigFile({ east, west, nats }, 'SECRETS');
  const redisFile = join(dir, 'redis.password');
  const natsFile = join(dir, 'nats.token');
  writeFileSync(redisFile, `${REDIS_PASSWORD}\n`, { mode: 0o600 });
  writeFileSync(natsFile, `${NATS_TOKEN}\n`, { mode: 0o600 });
  const leaks = (text: string) => [REDIS_PASSWORD, NATS_TOKEN].filter((s) => text.includes(s));

  await t.test('without the token: a clear error, exit 1', () => {
    const r = runCli(['replication', '--config', file, '--region', 'us-west-2']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^meridian: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+\n.*[Aa]uthorization/,
    );
  });

  await t.test('a credential-bearing URL in the config is not repeated in the error', () => {
    const doc = parse(readFileSync(file, 'utf8'));
    doc.replication.nats.servers = [nats.url.replace('nats://', 'nats://wrong-secret-in-url@')];
    const withUrl = join(dir, 'url.yaml');
    writeFileSync(withUrl, stringify(doc));
    const r = runCli(['replication', '--config', withUrl, '--region', 'us-west-2']);
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-secret-in-url/);
    assert.match(r.stderr, /nats:\/\/\*\*\*@127\.0\.0\.1/);
  });

  const variants: [string, string[], NodeJS.ProcessEnv][] = [
    ['--X-file flags', ['--redis-password-file', redisFile, '--nats-token-file', natsFile], {}],
    [
      'env MERIDIAN_REDIS_PASSWORD_FILE and MERIDIAN_NATS_TOKEN',
      [],
      {
        MERIDIAN_REDIS_PASSWORD_FILE: redisFile,
        MERIDIAN_NATS_TOKEN: NATS_TOKEN,
      },
    ],
  ];
  let n = 0;
  for (const [name, flags, env] of variants) {
    await t.test(`${name}: relays writes; no secret in argv or output`, async () => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'replication',
          '--config',
          file,
          '--region',
          'us-west-2',
          '--admin',
          '127.0.0.1:0',
          ...flags,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'debug', ...env } },
      );
      let stderr = '';
      child.stderr.on('data', (c) => {
        stderr += c;
      });
      const exited = once(child, 'exit');
      // The ready line, or the exit of a process that refused to start (then the assertion below fails).
      const first = await Promise.race([
        once(createInterface({ input: child.stdout }), 'line').then(([line]) => String(line)),
        exited.then(([code]) => `exited ${code}`),
      ]);
      assert.match(first, /"part":"replication"/, `ready line, got ${first} ${stderr}`);
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      assert.deepEqual(leaks(argv.join(' ')), [], 'no secret in argv');

      const redisEast = new Redis(east.url, { password: REDIS_PASSWORD });
      const redisWest = new Redis(west.url, { password: REDIS_PASSWORD });
      const transport = await connectNatsTransport({
        servers: [nats.url],
        stream: 'SECRETS',
        auth: { token: NATS_TOKEN },
      });
      const cache = createReplicatedCache({ region: 'us-east-1', redis: redisEast });
      const shipper = startShipper({ region: 'us-east-1', store: cache.store, transport });
      try {
        const key = `secret-test:${++n}`;
        await cache.set(key, 'hello');
        await eventually(
          'the relay (NATS token, Redis password) applied it',
          async () => (await redisWest.hget(`mc:${key}`, 'v')) === 'hello',
        );
        child.kill('SIGTERM');
        const [code] = await exited;
        assert.equal(code, 0);
        assert.deepEqual(leaks(stderr + first), [], 'no secret in the output');
      } finally {
        child.kill('SIGKILL');
        await shipper.close();
        await transport.close();
        redisEast.disconnect();
        redisWest.disconnect();
      }
    });
  }

  await t.test('a missing secret file is a clear error naming the file', () => {
    const r = runCli([
      ...['replication', '--config', file, '--region', 'us-west-2'],
      ...['--nats-token-file', join(dir, 'missing.token')],
    ]);
    assert.equal(r.status, 2, 'a flag naming a file that is not there: a usage error');
    assert.match(
      r.stderr,
      /^meridian: --nats-token-file: cannot read secret file .*missing\.token \(no such file\)/,
    );
  });
});
