// A DNS server given every control instance (two `meridian control` processes
// on a three-member etcd cluster) keeps following after the instance it was
// connected to is SIGKILLed; the CLI given both URLs uses the one that answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, report as edgeReport, TOKENS } from './control-fixtures.js';
import { runCliAsync, startEtcdCluster, waitFor } from './control-helpers.js';
import { type Proc, startMeridian } from './helpers/cli.js';
import { requireProgram } from './helpers/programs.js';

const streams = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^meridian_control_stream_clients (\d+)/m.exec(text)?.[1] ?? 0);
};

test('dns --control A,B follows the surviving instance after the one it followed is killed', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd) return;
  const cluster = await startEtcdCluster(etcd);
  const { file, dir } = controlConfigFile({
    store: {
      type: 'etcd',
      endpoints: cluster.endpoints,
      prefix: `/meridian-follow-${process.pid}/`,
      leaseTtl: '2s',
    },
  });
  const procs: Proc[] = [];
  try {
    const controls = await Promise.all(
      ['control-a', 'control-b'].map((name) =>
        startMeridian(name, ['control', '--config', file, '--listen', '127.0.0.1:0'], dir),
      ),
    );
    procs.push(...controls);
    const urls = controls.map((c) => String(c.ready.url));
    const leading = async (url: string) => (await api(url, 'GET', '/v1/health')).json.isLeader === true;
    const leader =
      (await waitFor(async () => {
        const flags = await Promise.all(urls.map(leading));
        return flags.filter(Boolean).length === 1 ? flags.indexOf(true) + 1 : 0;
      }, 10_000)) - 1;
    const survivor = 1 - leader;

    // The list names the follower first: the DNS server still goes to the leader.
    const dns = await startMeridian(
      'dns',
      [
        ...['dns', '--config', file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'],
        ...['--control', `${urls[survivor]},${urls[leader]}`, '--token', TOKENS.agent],
        ...['--state-dir', join(dir, 'dns-state')],
      ],
      dir,
    );
    procs.push(dns);
    const health = async () =>
      (await (await fetch(`http://${dns.ready.admin}/meridian/health`)).json()) as {
        snapshot: number;
        sync?: { status: string };
      };
    const first = await api(urls[leader], 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 40 });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    await waitFor(async () => (await health()).snapshot === first.json.version, 10_000, 100);
    assert.equal((await health()).sync?.status, 'synced');
    assert.equal(await streams(urls[leader]), 1, 'the DNS server follows the leader');
    assert.equal(await streams(urls[survivor]), 0);

    // Reports sent to the leader only: the follower's status and dashboard read the same.
    const report = edgeReport('us-east-1', { replicationLagMs: 1234 });
    await waitFor(
      async () => {
        await api(urls[leader], 'POST', '/v1/reports', TOKENS.agent, { ...report, at: Date.now() });
        const st = await api(urls[survivor], 'GET', '/v1/status', TOKENS.viewer);
        const lag = (st.json.regions as { id: string; replicationLagMs: number | null }[])[0]
          .replicationLagMs;
        const hist = await api(urls[survivor], 'GET', '/v1/dashboard/history', TOKENS.viewer);
        const samples = hist.json.samples as { regions: { id: string }[] }[];
        return lag === 1234 && samples.some((x) => x.regions.some((r) => r.id === 'us-east-1'));
      },
      10_000,
      200,
    );

    await stop(procs[leader].child, 'SIGKILL');
    await waitFor(() => leading(urls[survivor]), 15_000, 100);
    // A write through the CLI given the dead instance first: it moves on to the one that answers.
    const dial = await runCliAsync(['dial', 'us-east-1', '55', '--json'], {
      MERIDIAN_CONTROL: `${urls[leader]},${urls[survivor]}`,
      MERIDIAN_TOKEN: TOKENS.operator,
    });
    assert.equal(dial.status, 0, dial.stderr + dial.stdout);
    const after = JSON.parse(dial.stdout) as { version: number; changed: boolean };
    assert.equal(after.changed, true);
    // Default backoff (250 ms min, 10 s max): a reconnect is well inside 20 s on a loaded machine.
    await waitFor(async () => ((await health()).snapshot ?? 0) >= after.version, 20_000, 100);
    assert.equal((await health()).sync?.status, 'synced');
    assert.equal(await streams(urls[survivor]), 1, 'the DNS server now follows the survivor');

    const status = await runCliAsync(['status', '--json'], {
      MERIDIAN_CONTROL: `${urls[leader]},${urls[survivor]}`,
      MERIDIAN_TOKEN: TOKENS.viewer,
    });
    assert.equal(status.status, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { version: number; instance: string; isLeader: boolean };
    assert.equal(s.instance, urls[survivor]);
    // At least the dial's version: the new leader may have judged health since (after its report window).
    assert.ok(s.version >= after.version, `status version ${s.version}, dial's ${after.version}`);
  } finally {
    await Promise.all(procs.map((p) => stop(p.child)));
    await cluster.stop();
  }
});
