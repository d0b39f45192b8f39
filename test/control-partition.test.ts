// Issue 13: a partition never evacuates a healthy region, whichever side the
// leader is on. Two regions, each with its own control instance on a 3-member
// etcd (a member per region and a witness member in a third site), edges, DNS
// servers and origins; one region is cut off from the other and from the
// witness site (etcd peers, etcd clients, edge peer links, data planes to the
// other control, follower-to-leader forwarding). Control's witness probe of
// each edge is not cut: it stands outside every region.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsAnswer, regionServing } from './control-deployment.js';
import { api, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import {
  REGION_OF,
  SETTINGS,
  type Site,
  startPartitionedDeployment,
} from './control-partition-deployment.js';
import { requireProgram } from './helpers/programs.js';

const USERS = {
  A: { subnet: '128.59.0.0/24', client: '128.59.0.10', answer: '192.0.2.10' }, // New York: us-east-1
  B: { subnet: '171.64.0.0/24', client: '171.64.0.10', answer: '198.51.100.10' }, // Stanford: us-west-2
};
/** Several fall windows, with a report going stale and a lease running out inside each. */
const HOLD_MS = 4 * (SETTINGS.fallAfterMs + SETTINGS.staleAfterMs + SETTINGS.leaseTtlMs);

type Deployment = Awaited<ReturnType<typeof startPartitionedDeployment>>;
type Region = { id: string; health: string; dial: number };
type Audit = { at: number; who: string; action: string; target?: string; details?: { to?: string } };

const regions = async (url: string) =>
  ((await api(url, 'GET', '/v1/status', TOKENS.viewer)).json.regions as Region[]) ?? [];

/** Asks again once when there was no answer at all: one lost UDP packet or a slow accept on a loaded machine. */
async function twice<T>(probe: () => Promise<T | null>): Promise<T | null> {
  return (await probe()) ?? probe();
}

/** Everything healthy, both dials 100, and both DNS servers answering each region's users with it. */
async function settle(d: Deployment, leader: 'A' | 'B') {
  const url = d.controlUrl[leader];
  await waitFor(async () => (await regions(url)).every((r) => r.health === 'HEALTHY'), 60_000, 200);
  // An edge that came up after its peer was rightly DOWN for a moment and failed over: give it back its dial.
  for (const r of await regions(url))
    if (r.dial !== 100) {
      const put = await api(url, 'PUT', `/v1/regions/${r.id}/dial`, TOKENS.operator, { dial: 100 });
      assert.equal(put.status, 200, JSON.stringify(put.json));
    }
  await waitFor(
    async () => {
      const rs = await regions(url);
      if (!rs.every((r) => r.health === 'HEALTHY' && r.dial === 100)) return false;
      const op = (await api(url, 'GET', '/v1/operations/current', TOKENS.viewer)).json.operation as {
        status: string;
      } | null;
      if (op?.status === 'running') return false;
      for (const dns of [d.dnsPort.A, d.dnsPort.B])
        for (const u of [USERS.A, USERS.B]) if ((await dnsAnswer(dns, u.subnet)) !== u.answer) return false;
      return true;
    },
    60_000,
    250,
  );
  // The follower holds the same state before the cut (it would otherwise answer from an older one).
  await waitFor(
    async () => {
      const [a, b] = await Promise.all(
        [d.controlUrl.A, d.controlUrl.B].map(async (u) => (await api(u, 'GET', '/v1/health')).json.version),
      );
      const settled = (await api(url, 'GET', '/v1/health')).json.version;
      return a === settled && b === settled;
    },
    20_000,
    100,
  );
}

/**
 * Watches `site` for HOLD_MS from the leader's side (`readFrom`): never DOWN,
 * dial never lowered, both DNS servers answer its users with it and its edge
 * serves them itself. A probe left without any answer (a timeout on a loaded
 * machine) is counted apart; any other answer is a problem. Returns the
 * problems, the rounds and how many rounds each probe was answered.
 */
async function watchInService(d: Deployment, site: 'A' | 'B', readFrom: () => string) {
  const region = REGION_OF[site];
  const user = USERS[site];
  const problems: string[] = [];
  const answered = { dnsA: 0, dnsB: 0, edge: 0 };
  let rounds = 0;
  const until = Date.now() + HOLD_MS;
  while (Date.now() < until) {
    rounds++;
    const r = (await regions(readFrom()).catch(() => [] as Region[])).find((x) => x.id === region);
    if (r && (r.health === 'DOWN' || r.dial < 100)) problems.push(`${region} ${r.health} dial ${r.dial}`);
    for (const s of ['A', 'B'] as const) {
      const a = await twice(() => dnsAnswer(d.dnsPort[s], user.subnet));
      if (a !== null) answered[`dns${s}`]++;
      if (a !== null && a !== user.answer) problems.push(`DNS in ${s} answered ${region}'s users with ${a}`);
    }
    const served = await twice(() => regionServing(d.edgeUrl[site], user.client));
    if (served !== null) answered.edge++;
    if (served !== null && served !== region) problems.push(`${region}'s edge: served by ${served}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  return { problems, rounds, answered };
}

/** Most rounds answered by every probe: a server that went silent under the cut fails this. */
function assertAnswered(held: Awaited<ReturnType<typeof watchInService>>) {
  assert.ok(held.rounds >= 3, `looked ${held.rounds} times`);
  for (const [probe, n] of Object.entries(held.answered))
    assert.ok(n >= held.rounds / 2, `${probe} answered ${n} of ${held.rounds} rounds`);
}

/** Health or dial changes control wrote since `since` (from the leader's audit). */
async function changesSince(url: string, since: number) {
  const audit = (await api(url, 'GET', '/v1/audit?limit=200', TOKENS.viewer)).json.entries as Audit[];
  return audit.filter(
    (a) => a.at >= since && (a.action === 'dial' || (a.action === 'health' && a.details?.to === 'DOWN')),
  );
}

/** The health changes control made since `since`, for the test's diagnostics. */
async function healthSince(url: string, since: number) {
  const audit = (await api(url, 'GET', '/v1/audit?limit=200', TOKENS.viewer)).json.entries as Audit[];
  return audit
    .filter((a) => a.at >= since && a.action === 'health')
    .map((a) => `${a.target} -> ${a.details?.to} (${a.at - since} ms)`)
    .reverse()
    .join(', ');
}

async function heal(d: Deployment, leader: Site) {
  d.partition.isolate(null);
  const url = d.controlUrl[leader as 'A' | 'B'];
  await waitFor(async () => (await regions(url)).every((r) => r.health === 'HEALTHY'), 60_000, 250);
}

test('A | B+leader: A, cut off from B and the witness site, stays in service', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd || !requireProgram(t, 'kdig')) return;
  const d = await startPartitionedDeployment(etcd, 'B');
  try {
    await settle(d, 'B');
    const cutAt = Date.now();
    d.partition.isolate('A');
    const held = await watchInService(d, 'A', () => d.controlUrl.B);
    t.diagnostic(
      `watched us-east-1 for ${HOLD_MS} ms after the cut: ${held.rounds} rounds, answered ${JSON.stringify(held.answered)}`,
    );
    assert.deepEqual(held.problems, []);
    assertAnswered(held);
    const a = (await regions(d.controlUrl.B)).find((r) => r.id === REGION_OF.A)!;
    t.diagnostic(`leader's view of us-east-1 during the cut: ${a.health}`);
    assert.equal(a.health, 'PARTITIONED', 'B cannot reach it but the witness can');
    assert.equal(await d.leads('B'), true, 'B kept leading');
    assert.equal(await d.leads('A'), false, 'A never led');
    t.diagnostic(`health changes after the cut: ${await healthSince(d.controlUrl.B, cutAt)}`);
    assert.deepEqual(await changesSince(d.controlUrl.B, cutAt), [], 'no DOWN and no dial change');
    await heal(d, 'B');
  } finally {
    await d.close();
  }
});

test('A+leader | B: leadership moves to B, A stops acting, B stays in service', async (t) => {
  const etcd = requireProgram(t, 'etcd');
  if (!etcd || !requireProgram(t, 'kdig')) return;
  const d = await startPartitionedDeployment(etcd, 'A');
  try {
    await settle(d, 'A');
    const cutAt = Date.now();
    d.partition.isolate('A');
    const held = watchInService(d, 'B', () => d.controlUrl.B);
    await waitFor(() => d.leads('B'), 20 * SETTINGS.leaseTtlMs, 100);
    t.diagnostic(`B leads ${Date.now() - cutAt} ms after the cut (lease TTL ${SETTINGS.leaseTtlMs} ms)`);
    await waitFor(async () => !(await d.leads('A')), 20 * SETTINGS.leaseTtlMs, 100);
    // The minority side writes nothing: a dial set through A is refused and never lands.
    const write = await api(d.controlUrl.A, 'PUT', `/v1/regions/${REGION_OF.B}/dial`, TOKENS.operator, {
      dial: 37,
    });
    assert.notEqual(write.status, 200, JSON.stringify(write.json));
    const watched = await held;
    t.diagnostic(
      `watched us-west-2 for ${HOLD_MS} ms after the cut: ${watched.rounds} rounds, answered ${JSON.stringify(watched.answered)}`,
    );
    assert.deepEqual(watched.problems, []);
    assertAnswered(watched);
    assert.equal(await d.leads('A'), false, 'A did not lead again while cut off');
    t.diagnostic(`health changes after the cut: ${await healthSince(d.controlUrl.B, cutAt)}`);
    assert.deepEqual(await changesSince(d.controlUrl.B, cutAt), [], 'no DOWN and no dial change');
    await heal(d, 'B');
    const after = await regions(d.controlUrl.A);
    assert.deepEqual(
      after.map((r) => r.dial),
      [100, 100],
      'the write made through A during the cut never landed',
    );
    assert.equal(await d.leads('B'), true);
  } finally {
    await d.close();
  }
});
