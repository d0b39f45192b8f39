// Generated authorization test: every route the control server registers ×
// every kind of caller × dryRun absent/false/true in the body. The expected
// answer comes from the server's own access table (app.access, filled as
// fastify registers routes), so a new route is walked without editing this
// file; the dangerous cases are pinned explicitly in control-authz-cases.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RouteAccess } from '../src/control/access.js';
import type { ControlServer } from '../src/control/server.js';
import {
  CALLERS,
  type Caller,
  ensureRunning,
  ROLE_OF,
  SAMPLE_BODIES,
  startQuietControl,
  stateOf,
} from './control-authz-fixtures.js';

/** Routes anyone may call without a token. A new public route fails here until it is added. */
const PUBLIC_ROUTES = [
  'GET /',
  'GET /assets/*',
  'GET /metrics',
  'GET /openapi.json',
  'GET /v1/health',
  'GET /meridian/health',
  'GET /meridian/ready',
];

let control: ControlServer;
before(async () => {
  control = await startQuietControl();
});
after(async () => {
  await control.close();
});

function concrete(url: string, opId: string) {
  const values: Record<string, string> = { region: 'us-east-1', id: opId, version: '1' };
  return url.replace(/:([A-Za-z]+)/g, (_, name: string) => values[name] ?? 'x').replace(/\*$/, 'index.js');
}

function expected(route: RouteAccess, caller: Caller, dryRun: boolean | undefined): 'allowed' | 401 | 403 {
  if (route.public) return 'allowed';
  const role = ROLE_OF[caller];
  if (role === null) return 401;
  if (route.roles.includes(role as never)) return 'allowed';
  if (dryRun === true && route.dryRunRoles?.includes(role as never)) return 'allowed';
  return 403;
}

test('the server registers routes and the walk sees all of them', () => {
  const urls = control.app.access.map((r) => `${r.method} ${r.url}`);
  for (const known of ['GET /v1/status', 'POST /v1/reports', 'POST /v1/operations/:id/abort', 'GET /metrics'])
    assert.ok(urls.includes(known), known);
});

test('every route × every caller × dryRun: refused calls change nothing, allowed calls are not refused', async () => {
  const app = control.app;
  let walked = 0;
  for (const route of app.access) {
    const variants = route.body ? [undefined, false, true] : [undefined];
    for (const caller of Object.keys(CALLERS) as Caller[]) {
      for (const dryRun of variants) {
        const opId = await ensureRunning(control);
        const token = CALLERS[caller];
        const body = route.body
          ? {
              ...(SAMPLE_BODIES[`${route.method} ${route.url}`]?.() ?? {}),
              ...(dryRun === undefined ? {} : { dryRun }),
            }
          : undefined;
        const want = expected(route, caller, dryRun);
        const what = `${route.method} ${route.url} as ${caller}, dryRun ${dryRun}`;
        const before = await stateOf(control);
        const streamsBefore = control.context.stream.size;
        const pending = app.inject({
          method: route.method as 'GET',
          url: concrete(route.url, opId),
          headers: token ? { authorization: `Bearer ${token}` } : {},
          ...(body ? { payload: body } : {}),
        });
        // A refusal answers at once; only the snapshot stream stays open (it ends when control closes).
        const res = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
        walked++;
        if (res === null) {
          assert.equal(want, 'allowed', `${what}: still open, but it should have been refused`);
          assert.ok(control.context.stream.size > streamsBefore, `${what}: open but not a stream client`);
          continue;
        }
        if (want === 'allowed') {
          assert.ok(![401, 403].includes(res.statusCode), `${what}: refused ${res.statusCode} ${res.body}`);
          continue;
        }
        assert.equal(res.statusCode, want, `${what}: ${res.body}`);
        if (route.method !== 'HEAD') {
          assert.equal(res.json().error.code, want === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', what);
        }
        assert.deepEqual(await stateOf(control), before, `${what}: refused but state or audit changed`);
      }
    }
  }
  assert.ok(walked >= control.app.access.length * 6, `walked ${walked} calls`);
});

test('the public routes are exactly the listed ones', () => {
  const open = control.app.access
    .filter((r) => r.public && r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.url}`)
    .sort();
  assert.deepEqual(open, [...PUBLIC_ROUTES].sort());
});

test('only an evacuate/restore plan and a rollout plan have a dry run that viewers may ask for', () => {
  const relaxed = control.app.access
    .filter((r) => r.dryRunRoles && r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(relaxed, ['POST /v1/operations', 'POST /v1/rollouts']);
});

test('operators and admins are never locked out; agents only report and read the feed', () => {
  for (const r of control.app.access) {
    if (r.public) continue;
    const name = `${r.method} ${r.url}`;
    if (name === 'POST /v1/reports') {
      assert.deepEqual(r.roles, ['agent'], name);
      continue;
    }
    assert.ok(r.roles.includes('operator'), `${name}: operator locked out`);
    assert.ok(r.roles.includes('admin'), `${name}: admin locked out`);
    if (
      ![
        'GET /v1/snapshot',
        'GET /v1/snapshots/stream',
        'HEAD /v1/snapshot',
        'HEAD /v1/snapshots/stream',
      ].includes(name)
    )
      assert.ok(!r.roles.includes('agent'), `${name}: an agent token may call it`);
  }
});
