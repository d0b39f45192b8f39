// A follower that stops reading is dropped by control (logged, counted), and
// the real client (ControlSnapshotSource) reconnects and catches up from the
// latest snapshot. The follower is stalled by a TCP proxy that stops reading
// from control, as a wedged edge or a congested link would.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import type { StreamLimits } from '../src/control/stream.js';
import { followerOf, startTestControl } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';

/** A TCP proxy whose open connections can stop reading from the target (new ones flow). */
async function stallingProxy(target: URL) {
  const upstreams = new Map<Socket, Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    upstreams.set(upstream, client);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      upstreams.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stall: () => {
      for (const u of upstreams.keys()) {
        u.unpipe();
        u.pause();
      }
    },
    /** Reads again: the client gets what control had sent, then control's close. */
    resume: () => {
      for (const [u, client] of upstreams) u.pipe(client);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const u of upstreams.keys()) u.destroy();
        server.close(() => resolve());
      }),
  };
}

const cases: { name: string; reason: string; limits: Partial<StreamLimits> }[] = [
  {
    name: 'backed up longer than stallTimeout',
    reason: 'stalled',
    limits: { stallTimeoutMs: 300, pingMs: 50 },
  },
  // Smaller than one snapshot frame: the first frame left unsent passes it.
  {
    name: 'unsent data above maxBufferedBytes',
    reason: 'buffer',
    limits: { maxBufferedBytes: 100, stallTimeoutMs: 3_600_000, pingMs: 50 },
  },
];

for (const c of cases) {
  test(`a follower ${c.name} is dropped, logged and counted; the source reconnects and catches up`, async (t) => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const control = await startTestControl({}, { log, streamLimits: c.limits });
    const proxy = await stallingProxy(new URL(control.url));
    const source = followerOf(control, { controlUrl: proxy.url, minBackoffMs: 20, maxBackoffMs: 100 });
    t.after(async () => {
      await source.close();
      await proxy.close();
      await control.close();
    });
    await source.start();
    assert.equal(source.status().from, 'control');
    // Read from /metrics, as an operator would.
    const dropped = async () => {
      const text = await (await fetch(new URL('/metrics', control.url))).text();
      const m = new RegExp(
        `^meridian_control_stream_dropped_total\\{reason="${c.reason}"\\} (\\d+)`,
        'm',
      ).exec(text);
      return Number(m?.[1] ?? 0);
    };

    proxy.stall();
    // Snapshots until control gives up on the follower. The kernel's socket buffers take some MB
    // first (on loopback a paused receiver's window keeps opening a little: up to ~10k snapshots here).
    let dial = 0;
    let sent = 0;
    const t0 = Date.now();
    for (let i = 0; i % 50 !== 0 || (await dropped()) === 0; i++) {
      if (i > 40_000 || Date.now() - t0 > 90_000)
        assert.fail(`control never dropped the stalled follower (${i} snapshots sent)`);
      dial = i % 101;
      sent = i;
      await control.context.keeper.change((draft) => {
        draft.snapshot.regions[0].dial = dial;
        return [];
      });
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    t.diagnostic(`dropped after ${sent} snapshots, ${Date.now() - t0} ms`);
    assert.equal(control.context.stream.size, 0, 'the dropped follower is gone from the stream');
    const line = lines.map((l) => JSON.parse(l)).find((l) => /follower dropped/.test(l.msg));
    assert.ok(line, 'the drop is logged');
    assert.equal(line.reason, c.reason);

    // One more change the stalled follower never saw, then the link works again.
    await control.context.keeper.change((draft) => {
      draft.snapshot.regions[0].dial = dial === 55 ? 56 : 55;
      return [];
    });
    const latest = control.context.keeper.snapshot();
    proxy.resume();
    await waitFor(() => source.current().version === latest.version, 10_000);
    assert.equal(source.status().from, 'control');
    assert.ok(source.status().reconnects >= 1, 'the source reconnected');
    assert.equal(
      source.current().regions.get(latest.regions.keys().next().value!)?.dial,
      latest.regions.values().next().value!.dial,
    );
    await waitFor(() => control.context.stream.size === 1, 5000);
  });
}

test('a follower that was backed up gets the newest snapshot once it reads again, without reconnecting', async (t) => {
  const control = await startTestControl({}, { streamLimits: { stallTimeoutMs: 3_600_000 } });
  const proxy = await stallingProxy(new URL(control.url));
  const source = followerOf(control, { controlUrl: proxy.url });
  t.after(async () => {
    await source.close();
    await proxy.close();
    await control.close();
  });
  await source.start();
  const reconnects = source.status().reconnects;
  proxy.stall();
  const coalesced = async () =>
    Number((await control.context.metrics.streamCoalesced.get()).values[0]?.value ?? 0);
  for (let i = 0; i % 50 !== 0 || (await coalesced()) < 10; i++) {
    if (i > 20_000) assert.fail('the follower never backed up');
    await control.context.keeper.change((draft) => {
      draft.snapshot.regions[0].dial = i % 101;
      return [];
    });
  }
  const latest = control.context.keeper.snapshot().version;
  const seen: number[] = [];
  source.onChange((s) => seen.push(s.version));
  proxy.resume();
  await waitFor(() => source.current().version === latest, 10_000);
  assert.equal(source.status().reconnects, reconnects, 'the same connection');
  assert.equal(control.context.stream.size, 1);
  // What the kernel already held arrives in order, then the newest: the ones in between were skipped.
  assert.ok(
    latest - seen[0] + 1 > seen.length,
    `skipped some: saw ${seen.length} of ${latest - seen[0] + 1}`,
  );
});
