import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { ReleaseWatch, type RolloutSeen, rolloutEnded } from './release-watch.js';

/** A control instance that answers what the lab reads, and records what it was sent. */
async function fakeControl(o: { leader: boolean; rollouts?: boolean }) {
  const seen: { method: string; path: string; auth: string; body: string }[] = [];
  let rollout: Record<string, unknown> | null = null;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization ?? '', body });
      const json = (status: number, v: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (!o.leader) return json(503, { error: { code: 'NO_LEADER' } });
      if (req.url === '/v1/status')
        return json(200, {
          regions: [],
          outlier: {
            evacuated: [],
            global: { at: 1, why: 'all regions bad alike' },
            decisions: [{ at: 2, region: 'us-east-1', decision: 'redirect', why: 'worse than the others' }],
          },
        });
      if (!o.rollouts) return json(404, { error: { code: 'NOT_FOUND' } });
      if (req.url === '/v1/rollouts/current') return json(200, { rollout });
      if (req.url === '/v1/rollouts' && req.method === 'POST') {
        rollout = {
          id: 'r1',
          version: JSON.parse(body).version,
          status: 'running',
          phase: 'draining',
          regionsReached: [],
          judgements: [],
        };
        return json(201, { rollout });
      }
      json(404, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    finish: () => {
      if (rollout) rollout.status = 'rolled-back';
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('ReleaseWatch: reads outlier state and the rollout from whichever instance answers; starts a rollout', async () => {
  const follower = await fakeControl({ leader: false });
  const leader = await fakeControl({ leader: true, rollouts: true });
  try {
    const watch = new ReleaseWatch(
      [follower.url, leader.url],
      { viewer: 'VIEW', operator: 'OPER' },
      () => 1500,
    );
    await watch.poll();
    assert.equal(watch.seen.globalAt, 1500);
    assert.equal(watch.seen.globalWhy, 'all regions bad alike');
    assert.deepEqual(
      [...watch.seen.evacuated],
      [['us-east-1', 1500]],
      'a redirect decision counts as an evacuation',
    );
    assert.equal(watch.seen.rollout, null);

    const r = await watch.startRollout('v3', 'v1');
    assert.equal(r.version, 'v3');
    const post = leader.seen.find((s) => s.method === 'POST')!;
    assert.equal(post.auth, 'Bearer OPER', 'writes with the operator token');
    assert.deepEqual(JSON.parse(post.body), { version: 'v3', previousVersion: 'v1' });
    assert.ok(
      leader.seen.filter((s) => s.method === 'GET').every((s) => s.auth === 'Bearer VIEW'),
      'reads with the viewer token',
    );
    leader.finish();
    await watch.poll();
    const after = watch.seen.rollout as RolloutSeen | null;
    assert.equal(after?.status, 'rolled-back');
    assert.ok(rolloutEnded(after));
  } finally {
    await follower.close();
    await leader.close();
  }
});

test('ReleaseWatch: a control without rollouts refuses clearly; polling notes nothing', async () => {
  const control = await fakeControl({ leader: true });
  try {
    const watch = new ReleaseWatch([control.url], { viewer: 'v', operator: 'o' }, () => 0);
    await watch.poll();
    assert.equal(watch.seen.rollout, null);
    assert.equal(watch.seen.lastError, null);
    await assert.rejects(watch.startRollout('v2'), /POST \/v1\/rollouts answered HTTP 404/);
  } finally {
    await control.close();
  }
});
