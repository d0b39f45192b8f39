// npm run bench -- edge [--json] [--rounds N] [--seconds S] [--connections C] [--workers W] [--half-seconds S]
//                       [--ws-connections C] [--ws-seconds S]
// wrk through Meridian's edge, nginx and HAProxy, each a reverse proxy to the
// same nginx origin on this machine; rounds interleave the three so a busy
// neighbour hurts all alike. Prints medians of req/s and p99 and the ratios.
// Then the latency the proxy adds at half of Meridian's peak: the same paced
// load (wrk with a fixed pause per connection, as wrk2 is not packaged) straight
// to the origin and through each proxy; added p99 = proxy p99 - origin p99.
// Last, a WebSocket echo run (websocket.ts): messages per second through each.
// Meridian is the CLI as users get it: this tree packed and installed into a
// clean prefix (test/helpers/installed.ts), not the source tree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installPacked } from '../../test/helpers/installed.js';
import { freePort } from '../../test/helpers/ports.js';
import {
  type Running,
  startHaproxy,
  startMeridian,
  startNginxOrigin,
  startNginxProxy,
  stop,
  waitHttp,
} from './servers.js';
import { startWsOrigin, type WsRun, wsLoad } from './websocket.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    workers: { type: 'string', default: '2' },
    'half-seconds': { type: 'string', default: '4' },
    'ws-connections': { type: 'string', default: '64' },
    'ws-seconds': { type: 'string', default: '5' },
  },
});

/** wrk's pause between a connection's requests (ms) for the paced half-load runs. */
const PACE_MS = 2;

interface Run {
  rps: number;
  p99Ms: number;
  errors: number;
  /** CPU time (user + system) the proxy's processes spent per request, in microseconds. */
  cpuUs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms used so far by `pid` and its children (nginx and meridian workers): robust on a shared machine. */
function cpuMs(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    if (Number(entry) === pid || ppid === pid) total += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  }
  return total;
}

function wrk(
  port: number,
  pid: number,
  seconds = Number(args.seconds),
  paced?: { script: string; connections: number },
): Run {
  const cpuBefore = cpuMs(pid);
  const r = spawnSync(
    'wrk',
    [
      '-t2',
      `-c${paced?.connections ?? args.connections}`,
      `-d${seconds}s`,
      '--latency',
      ...(paced ? ['-s', paced.script] : []),
      '-H',
      'Host: api.example.com',
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error?.message}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? 0);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  const p99Ms = p99 ? Number(p99[1]) * scale[p99[2] as keyof typeof scale] : Number.NaN;
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(r.stdout);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
  const errors = Number(errs?.[1] ?? 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? 0);
  const cpuUs = requests > 0 ? ((cpuMs(pid) - cpuBefore) * 1000) / requests : Number.NaN;
  return { rps, p99Ms, errors, cpuUs };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Paced load at `target` req/s: each connection waits PACE_MS after every
 * answer, so the rate follows the connection count, calibrated straight at
 * the origin. Rounds interleave origin and proxies; medians of p99.
 */
function measureHalfLoad(
  dir: string,
  target: number,
  originPort: number,
  origin: Running,
  proxies: Running[],
) {
  const script = join(dir, 'paced.lua');
  writeFileSync(script, `function delay()\n  return ${PACE_MS}\nend\n`);
  const seconds = Number(args['half-seconds']);
  let connections = Math.max(2, Math.round((target * PACE_MS) / 1000));
  for (let i = 0; i < 3; i++) {
    const r = wrk(originPort, origin.proc.pid!, 2, { script, connections });
    if (r.rps <= 0) break;
    const next = Math.max(2, Math.round((connections * target) / r.rps));
    if (Math.abs(next - connections) <= 1) break;
    connections = next;
  }
  const targets = [{ name: 'origin', port: originPort, pid: origin.proc.pid! }].concat(
    proxies.map((p) => ({ name: p.name, port: p.port, pid: p.proc.pid! })),
  );
  const runs = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const t of targets) {
      const r = wrk(t.port, t.pid, seconds, { script, connections });
      runs.get(t.name)!.push(r);
      if (!args.json)
        process.stderr.write(
          `half load round ${round + 1} ${t.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms} ms\n`,
        );
    }
  }
  const results = Object.fromEntries(
    [...runs].map(([name, rs]) => [
      name,
      {
        rps: Math.round(median(rs.map((r) => r.rps))),
        p99Ms: Math.round(median(rs.map((r) => r.p99Ms)) * 1000) / 1000,
      },
    ]),
  );
  const addedP99Ms = Object.fromEntries(
    proxies.map((p) => [p.name, Math.round((results[p.name].p99Ms - results.origin.p99Ms) * 100) / 100]),
  );
  return { targetRps: Math.round(target), connections, paceMs: PACE_MS, results, addedP99Ms };
}

/** WebSocket echo through each proxy, rounds interleaved; medians of messages per second and p99. */
async function measureWebSocket(proxies: Running[]) {
  const connections = Number(args['ws-connections']);
  const seconds = Number(args['ws-seconds']);
  const runs = new Map<string, WsRun[]>(proxies.map((p) => [p.name, []]));
  // Warm-up, not counted: the tunnel path's JIT and every proxy's first connections.
  for (const p of proxies) await wsLoad(p.port, connections, 2);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const p of proxies) {
      const r = await wsLoad(p.port, connections, seconds);
      runs.get(p.name)!.push(r);
      if (!args.json)
        process.stderr.write(
          `websocket round ${round + 1} ${p.name}: ${r.messagesPerS} msg/s, p99 ${r.p99Ms} ms\n`,
        );
    }
  }
  const results = Object.fromEntries(
    [...runs].map(([name, rs]) => [
      name,
      {
        messagesPerS: Math.round(median(rs.map((r) => r.messagesPerS))),
        p99Ms: Math.round(median(rs.map((r) => r.p99Ms)) * 1000) / 1000,
        rounds: rs.map((r) => r.messagesPerS),
      },
    ]),
  );
  const m = results.meridian.messagesPerS;
  return {
    connections,
    seconds,
    results,
    ratio: {
      nginx: Math.round((m / results.nginx.messagesPerS) * 100) / 100,
      haproxy: Math.round((m / results.haproxy.messagesPerS) * 100) / 100,
    },
  };
}

async function main() {
  for (const program of ['wrk', 'nginx', 'haproxy']) {
    if (spawnSync('which', [program]).status !== 0) {
      process.stderr.write(`bench edge: ${program} is not installed (Debian package ${program})\n`);
      process.exit(1);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-edge-'));
  const running: Running[] = [];
  try {
    const originPort = await freePort();
    running.push(startNginxOrigin(dir, originPort));
    await waitHttp(originPort);
    const wsOrigin = await startWsOrigin(await freePort());
    running.push(wsOrigin);
    const installed = installPacked((line) => !args.json && process.stderr.write(`install: ${line}\n`));
    const meridian = await startMeridian(
      installed.bin,
      dir,
      await freePort(),
      originPort,
      Number(args.workers),
      wsOrigin.port,
    );
    const measured = {
      cli: 'packed and installed (npm pack; npm install -g TARBALL --prefix DIR)',
      bin: installed.bin,
      ready: meridian.ready,
    };
    if (!args.json)
      process.stderr.write(`meridian: ${installed.bin}, ready ${JSON.stringify(meridian.ready)}\n`);
    const proxies = [
      meridian,
      startNginxProxy(dir, await freePort(), originPort, wsOrigin.port),
      startHaproxy(dir, await freePort(), originPort, wsOrigin.port),
    ];
    running.push(...proxies);
    for (const p of proxies)
      await waitHttp(p.port).catch((e) => Promise.reject(new Error(`${p.name}: ${e.message}`)));
    const results = new Map<string, Run[]>(proxies.map((p) => [p.name, []]));
    // Warm-up until CPU per request settles: Node's JIT (on a busy machine its
    // compiler threads get little CPU) and every connection pool.
    for (const p of proxies) {
      let previous = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 6; i++) {
        const r = wrk(p.port, p.proc.pid!, 3);
        if (r.cpuUs > previous * 0.8) break;
        previous = r.cpuUs;
      }
    }
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const p of proxies) {
        const r = wrk(p.port, p.proc.pid!);
        results.get(p.name)!.push(r);
        if (!args.json)
          process.stderr.write(
            `round ${round + 1} ${p.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms} ms, cpu ${r.cpuUs.toFixed(1)} us/req\n`,
          );
      }
    }
    const summary = Object.fromEntries(
      [...results].map(([name, runs]) => [
        name,
        {
          rps: Math.round(median(runs.map((r) => r.rps))),
          p99Ms: Math.round(median(runs.map((r) => r.p99Ms)) * 1000) / 1000,
          cpuUsPerRequest: Math.round(median(runs.map((r) => r.cpuUs)) * 10) / 10,
          errors: runs.reduce((a, r) => a + r.errors, 0),
          rounds: runs.map((r) => Math.round(r.rps)),
        },
      ]),
    );
    const m = summary.meridian.rps;
    const halfLoad = measureHalfLoad(dir, m / 2, originPort, running[0], proxies);
    const websocket = await measureWebSocket(proxies);
    const out = {
      bench: 'edge',
      machine: 'shared with other work while measured; compare ratios, not absolute numbers',
      measured,
      settings: {
        rounds: Number(args.rounds),
        seconds: Number(args.seconds),
        connections: Number(args.connections),
        meridianWorkers: Number(args.workers),
      },
      /** Requests per second, median of the rounds. */
      medians: Object.fromEntries(Object.entries(summary).map(([name, s]) => [name, s.rps])),
      results: summary,
      /** Meridian's throughput over each peer's. */
      ratio: {
        nginx: Math.round((m / summary.nginx.rps) * 100) / 100,
        haproxy: Math.round((m / summary.haproxy.rps) * 100) / 100,
        /** nginx CPU per request over Meridian's: the throughput ratio if both had the same CPU. */
        cpuEfficiencyToNginx:
          Math.round((summary.nginx.cpuUsPerRequest / summary.meridian.cpuUsPerRequest) * 100) / 100,
      },
      halfLoad,
      websocket,
      bar: { ratioToNginx: 0.5, aim: 0.8, addedP99AtHalfLoadMs: 2 },
    };
    if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      for (const [name, s] of Object.entries(summary)) {
        process.stdout.write(
          `${name.padEnd(9)} ${String(s.rps).padStart(7)} req/s (median)  p99 ${s.p99Ms} ms  ` +
            `cpu ${s.cpuUsPerRequest} us/req  errors ${s.errors}\n`,
        );
      }
      process.stdout.write(
        `ratio meridian/nginx ${out.ratio.nginx}  meridian/haproxy ${out.ratio.haproxy}  ` +
          `cpu efficiency vs nginx ${out.ratio.cpuEfficiencyToNginx}  (bar 0.5, aim 0.8)\n`,
      );
      process.stdout.write(
        `half load (${halfLoad.targetRps} req/s offered, ${halfLoad.connections} paced connections): ` +
          Object.entries(halfLoad.results)
            .map(([name, r]) => `${name} ${r.rps} req/s p99 ${r.p99Ms} ms`)
            .join(', ') +
          `\np99 added at half load: ` +
          Object.entries(halfLoad.addedP99Ms)
            .map(([name, ms]) => `${name} ${ms} ms`)
            .join(', ') +
          '  (bar 2 ms)\n',
      );
      process.stdout.write(
        `websocket echo (${websocket.connections} connections, 64 B): ` +
          Object.entries(websocket.results)
            .map(([name, r]) => `${name} ${r.messagesPerS} msg/s p99 ${r.p99Ms} ms`)
            .join(', ') +
          `\nratio meridian/nginx ${websocket.ratio.nginx}  meridian/haproxy ${websocket.ratio.haproxy}\n`,
      );
    }
  } finally {
    for (const r of running.reverse()) await stop(r);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
