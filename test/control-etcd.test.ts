// Two control processes on a three-member etcd cluster: one leads; killing it
// hands leadership (and writes) to the other within seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stop } from './control-deployment.js';
import { api, controlConfigFile, report as edgeReport, TOKENS } from './control-fixtures.js';
import { runCliAsync, startEtcdCluster, waitFor } from './control-helpers.js';
import { startMeridian } from './helpers/cli.js';
import { requireProgram } from './helpers/programs.js';

test('one leader; followers forward writes and reports; killing the leader hands leadership over', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd) return;
  const cluster = await startEtcdCluster(etcd);
  const { file, dir } = controlConfigFile({
    store: {
      type: 'etcd',
      endpoints: cluster.endpoints,
      prefix: `/meridian-${process.pid}/`,
      leaseTtl: '2s',
    },
  });
  const procs: Awaited<ReturnType<typeof startMeridian>>[] = [];
  try {
    const [a, b] = await Promise.all(
      ['control-a', 'control-b'].map((name) =>
        startMeridian(name, ['control', '--config', file, '--listen', '127.0.0.1:0'], dir),
      ),
    );
    procs.push(a, b);
    const urls = [String(a.ready.url), String(b.ready.url)];
    const leading = async (url: string) => (await api(url, 'GET', '/v1/health')).json.isLeader === true;
    const leaderIndex = await waitFor(async () => {
      const flags = await Promise.all(urls.map(leading));
      return flags.filter(Boolean).length === 1 ? flags.indexOf(true) + 1 : 0;
    }, 10_000);
    const leader = leaderIndex - 1;
    const follower = 1 - leader;

    // A write sent to the follower is done by the leader (the dashboard works on any instance);
    // one already forwarded is not sent on again: NOT_LEADER, naming the leader.
    const forwarded = await api(urls[follower], 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, {
      dial: 35,
    });
    assert.equal(forwarded.status, 200, JSON.stringify(forwarded.json));
    const regions = (await api(urls[leader], 'GET', '/v1/status', TOKENS.viewer)).json.regions as {
      id: string;
      dial: number;
    }[];
    assert.equal(regions.find((r) => r.id === 'us-east-1')?.dial, 35);
    const refused = await fetch(`${urls[follower]}/v1/regions/us-east-1/dial`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${TOKENS.operator}`,
        'content-type': 'application/json',
        'x-meridian-forwarded': 'http://elsewhere',
      },
      body: JSON.stringify({ dial: 40 }),
    });
    const refusal = (await refused.json()) as { error?: { code: string; message: string } };
    assert.equal(refused.status, 503);
    assert.equal(refusal.error?.code, 'NOT_LEADER');
    assert.match(refusal.error?.message ?? '', new RegExp(urls[leader].replace(/[.]/g, '\\.')));
    // The CLI pointed at the follower follows its leader hint instead of failing.
    const viaFollower = await runCliAsync(['dial', 'us-east-1', '45', '--json'], {
      MERIDIAN_CONTROL: urls[follower],
      MERIDIAN_TOKEN: TOKENS.operator,
    });
    assert.equal(viaFollower.status, 0, viaFollower.stderr + viaFollower.stdout);
    assert.equal(JSON.parse(viaFollower.stdout).changed, true);
    const ok = await api(urls[leader], 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, { dial: 40 });
    assert.equal(ok.status, 200);
    await waitFor(async () => {
      const s = await api(urls[follower], 'GET', '/v1/status', TOKENS.viewer);
      return (s.json.regions as { dial: number }[])[0].dial === 40;
    }, 5000);

    // An operation started through the follower is read back through it at once: the leader runs it,
    // and the follower's own copy may not have caught up yet (`meridian evacuate --wait` polls this).
    const started = await api(urls[follower], 'POST', '/v1/operations', TOKENS.operator, {
      kind: 'restore',
      region: 'us-east-1',
      steps: [100],
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const current = await api(urls[follower], 'GET', '/v1/operations/current', TOKENS.viewer);
    assert.equal(
      (current.json.operation as { id: string } | null)?.id,
      (started.json.operation as { id: string }).id,
    );
    const id = (started.json.operation as { id: string }).id;
    const aborted = await api(urls[follower], 'POST', `/v1/operations/${id}/abort`, TOKENS.operator, {});
    assert.ok(aborted.status < 300 || aborted.status === 409, JSON.stringify(aborted.json));

    const report = edgeReport('us-east-1');
    assert.equal((await api(urls[follower], 'POST', '/v1/reports', TOKENS.agent, report)).status, 202);
    await waitFor(async () => {
      const text = await (await fetch(`${urls[leader]}/metrics`)).text();
      return /meridian_control_reports_total\{region="us-east-1"\} [1-9]/.test(text);
    }, 5000);

    const killedAt = Date.now();
    await stop(procs[leader].child, 'SIGKILL');
    await waitFor(() => leading(urls[follower]), 15_000, 100);
    t.diagnostic(
      `follower took over ${Date.now() - killedAt} ms after the leader was killed (lease TTL 2 s)`,
    );
    const after = await api(urls[follower], 'PUT', '/v1/regions/us-east-1/dial', TOKENS.operator, {
      dial: 60,
    });
    assert.equal(after.status, 200, JSON.stringify(after.json));
  } finally {
    await Promise.all(procs.map((p) => stop(p.child)));
    await cluster.stop();
  }
});
