// The known ways in, pinned one by one (the generated walk is control-authz):
// a viewer aborting with "dryRun": true, an edge's agent token reporting for
// another region, operators locked out, and a forged peer view evacuating a
// healthy region.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import type { ControlServer } from '../src/control/server.js';
import { ensureRunning, startQuietControl, stateOf } from './control-authz-fixtures.js';
import { report, startTestControl, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';

let control: ControlServer;
before(async () => {
  control = await startQuietControl();
});
after(async () => {
  await control.close();
});

const call = (method: 'POST' | 'PUT' | 'GET', url: string, token: string | undefined, payload?: unknown) =>
  control.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });

for (const dryRun of [true, 'true', 1]) {
  test(`a viewer cannot abort a running evacuation with dryRun: ${JSON.stringify(dryRun)}`, async () => {
    const id = await ensureRunning(control);
    const before = await stateOf(control);
    const res = await call('POST', `/v1/operations/${id}/abort`, TOKENS.viewer, { dryRun, reason: 'x' });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'FORBIDDEN');
    assert.equal(control.context.keeper.current().operation?.status, 'running');
    assert.deepEqual(await stateOf(control), before);
  });
}

test('dryRun lowers no role on the dial, for viewers or agents', async () => {
  for (const token of [TOKENS.viewer, TOKENS.eastAgent]) {
    const before = await stateOf(control);
    const res = await call('PUT', '/v1/regions/us-east-1/dial', token, { dial: 0, dryRun: true });
    assert.equal(res.statusCode, 403, res.body);
    assert.deepEqual(await stateOf(control), before);
  }
});

test('a viewer may ask for an evacuation plan, not start one', async () => {
  const body = { kind: 'evacuate', region: 'us-east-1', steps: [50, 0] };
  const before = await stateOf(control);
  const plan = await call('POST', '/v1/operations', TOKENS.viewer, { ...body, dryRun: true });
  assert.equal(plan.statusCode, 200, plan.body);
  assert.equal(plan.json().operation, null);
  assert.equal((await call('POST', '/v1/operations', TOKENS.viewer, body)).statusCode, 403);
  assert.deepEqual(await stateOf(control), before);
});

test("an edge's agent token cannot report for another region: 403, logged, audited once a minute", async () => {
  const warned: string[] = [];
  const log = control.context.log;
  const warn = log.warn.bind(log);
  log.warn = ((obj: unknown, msg?: string) => {
    warned.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
    return warn(obj as object, msg);
  }) as typeof log.warn;
  try {
    const before = await stateOf(control);
    const forged = await call('POST', '/v1/reports', TOKENS.eastAgent, report('us-west-2'));
    assert.equal(forged.statusCode, 403, forged.body);
    assert.equal(forged.json().error.code, 'FORBIDDEN');
    assert.match(forged.json().error.message, /east-edge.*us-east-1.*us-west-2/);
    const after = await stateOf(control);
    assert.equal(after.state, before.state);
    assert.equal(after.reports, before.reports, 'the forged report was counted');
    const [entry] = await control.context.keeper.store.audit(1);
    assert.equal(entry.action, 'report-refused');
    assert.equal(entry.who, 'east-edge');
    assert.equal(entry.target, 'us-west-2');
    assert.ok(
      warned.some((w) => /report refused/.test(w) && /us-west-2/.test(w)),
      warned.join('\n'),
    );
    // A flood of forged reports is refused every time but audited once a minute.
    const audited = (await control.context.keeper.store.audit(1000)).length;
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await call('POST', '/v1/reports', TOKENS.eastAgent, report('us-west-2'))).statusCode,
        403,
      );
    assert.equal((await control.context.keeper.store.audit(1000)).length, audited);
    // The same token reports for its own region.
    assert.equal((await call('POST', '/v1/reports', TOKENS.eastAgent, report('us-east-1'))).statusCode, 202);
    assert.equal((await stateOf(control)).reports, before.reports + 1);
  } finally {
    log.warn = warn;
  }
});

test('operators and admins are not locked out', async () => {
  for (const [token, to] of [
    [TOKENS.operator, 80],
    [TOKENS.admin, 70],
  ] as const) {
    const id = await ensureRunning(control);
    const abort = await call('POST', `/v1/operations/${id}/abort`, token, { reason: 'x' });
    assert.equal(abort.statusCode, 200, abort.body);
    const dial = await call('PUT', '/v1/regions/us-east-1/dial', token, { dial: to, reason: 'x' });
    assert.equal(dial.statusCode, 200, dial.body);
    assert.equal((await call('GET', '/v1/status', token)).statusCode, 200);
  }
  const [entry] = await control.context.keeper.store.audit(1);
  assert.deepEqual([entry.who, entry.role, entry.action], ['root', 'admin', 'dial']);
});

/** Answers 200 on /meridian/health, as an edge does, so control's witness reaches the region. */
async function fakeEdgeHealth(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('one agent token lying about another region cannot evacuate it while the witness reaches it', async () => {
  const [east, west] = [await fakeEdgeHealth(), await fakeEdgeHealth()];
  const dir = mkdtempSync(join(tmpdir(), 'meridian-authz-'));
  const doc = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  doc.regions[0].edge = east.url;
  doc.regions[1].edge = west.url;
  writeFileSync(join(dir, 'base.yaml'), stringify(doc));
  const live = await startTestControl({}, { base: join(dir, 'base.yaml'), dir });
  const westOf = async () => {
    const status = await live.app.inject({
      url: '/v1/status',
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    return (status.json().regions as { id: string; health: string; dial: number }[]).find(
      (r) => r.id === 'us-west-2',
    )!;
  };
  const forge = () =>
    live.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: { authorization: `Bearer ${TOKENS.eastAgent}` },
      payload: report('us-east-1', { peers: { 'us-west-2': false } }),
    });
  try {
    // fallAfter is 300 ms in the fixture: lie for ten times that.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      assert.equal((await forge()).statusCode, 202);
      const w = await westOf();
      assert.notEqual(w.health, 'DOWN', 'one forged peer view made us-west-2 DOWN');
      assert.equal(w.dial, 100);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The same lie once the witness also loses us-west-2 does act: the harness can see DOWN.
    west.server.close();
    west.server.closeAllConnections();
    await waitFor(async () => {
      await forge();
      return (await westOf()).health === 'DOWN';
    }, 10_000);
  } finally {
    await live.close();
    for (const s of [east.server, west.server]) {
      s.close();
      s.closeAllConnections();
    }
  }
});
