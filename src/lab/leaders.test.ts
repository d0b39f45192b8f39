import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { LeaderWatch } from './leaders.js';

async function instance(leads: () => boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/v1/health') return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ok: true, isLeader: leads(), version: 1 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

async function until(what: string, ok: () => boolean) {
  const end = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`not seen within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the leader watch counts a change of leader, not the first election nor a gap without one', async () => {
  let leader: 'a' | 'b' | null = 'a';
  const a = await instance(() => leader === 'a');
  const b = await instance(() => leader === 'b');
  const watch = new LeaderWatch([a.url, b.url], () => performance.now());
  try {
    watch.start(20);
    await until('a leads', () => watch.timeline.at(-1)?.leader === a.url);
    leader = null;
    await until('nobody leads', () => watch.timeline.at(-1)?.leader === null);
    leader = 'b';
    await until('b leads', () => watch.timeline.at(-1)?.leader === b.url);
    assert.equal(watch.changes(), 1);
    a.server.close();
    leader = 'a'; // a is gone: nobody answers as leader
    await until('a dead, nobody leads', () => watch.timeline.at(-1)?.leader === null);
    assert.equal(watch.changes(), 1);
    assert.equal(watch.leaderAt(watch.timeline[0].t), a.url);
  } finally {
    watch.stop();
    a.server.close();
    b.server.close();
  }
});
