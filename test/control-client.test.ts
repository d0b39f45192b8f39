// The CLI's control client against a follower: NOT_LEADER with a leader hint
// sends the call to the leader; without a hint (no leader yet) it asks again.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ControlClient } from '../src/control/client.js';
import type { ControlServer } from '../src/control/server.js';
import { isMeridianError } from '../src/errors.js';
import { startTestControl, TOKENS } from './control-fixtures.js';

let control: ControlServer;
before(async () => {
  control = await startTestControl();
});
after(async () => {
  await control.close();
});

/** A follower that refuses every call with NOT_LEADER, naming `leader` (or no one). */
async function follower(
  leader: () => string | null,
): Promise<{ url: string; calls: number; server: Server }> {
  const f = { url: '', calls: 0, server: undefined as unknown as Server };
  f.server = createServer((req, res) => {
    f.calls++;
    req.resume();
    const hint = leader();
    res.writeHead(503, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: {
          code: 'NOT_LEADER',
          message: `this control instance is not the leader; send it to ${hint ?? 'the leader (none elected yet)'}`,
          details: hint ? [`leader: ${hint}`] : [],
        },
      }),
    );
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

const close = (s: Server) => new Promise((r) => s.close(r));

test('NOT_LEADER with a leader hint: the call goes to the leader, and so do later calls', async () => {
  const f = await follower(() => control.url);
  try {
    const client = new ControlClient(f.url, TOKENS.operator);
    const r = await client.call<{ dial: number; changed: boolean }>('PUT', '/v1/regions/us-west-2/dial', {
      dial: 90,
      reason: 'via a follower',
    });
    assert.deepEqual([r.dial, r.changed], [90, true]);
    assert.equal(client.baseUrl, control.url);
    await client.call('GET', '/v1/status');
    assert.equal(f.calls, 1, 'the follower was asked once');
  } finally {
    await close(f.server);
  }
});

test('NOT_LEADER without a hint: asks again while a leader is elected, then fails with the refusal', async () => {
  let elected = false;
  const f = await follower(() => (elected ? control.url : null));
  try {
    const client = new ControlClient(f.url, TOKENS.operator, { electionRetries: 5, electionWaitMs: 50 });
    setTimeout(() => {
      elected = true;
    }, 120);
    const r = await client.call<{ dial: number }>('PUT', '/v1/regions/us-west-2/dial', { dial: 80 });
    assert.equal(r.dial, 80);

    elected = false;
    const stuck = new ControlClient(f.url, TOKENS.operator, { electionRetries: 2, electionWaitMs: 10 });
    const before = f.calls;
    await assert.rejects(
      stuck.call('GET', '/v1/status'),
      (e) => isMeridianError(e) && e.code === 'NOT_LEADER',
    );
    assert.equal(f.calls - before, 3);
  } finally {
    await close(f.server);
  }
});

test('a leader hint that points back to an instance already tried is not followed in a loop', async () => {
  const f = await follower(() => f.url);
  try {
    const client = new ControlClient(f.url, TOKENS.operator);
    await assert.rejects(
      client.call('GET', '/v1/status'),
      (e) => isMeridianError(e) && e.code === 'NOT_LEADER',
    );
    assert.equal(f.calls, 1);
  } finally {
    await close(f.server);
  }
});
