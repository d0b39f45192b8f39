// npm run bench -- dns [--duration S] [--rounds N] [--workers N] [--no-js] [--answers home|home+fallback] [--json]
// dnsperf against Meridian (geo answers: every query carries a client subnet),
// PowerDNS (bind backend) and gdnsd serving the same zone on this machine, in
// interleaved rounds; prints the median QPS of each and Meridian's ratios.
// Meridian is the CLI as users get it: this tree packed and installed into a
// clean prefix (test/helpers/installed.ts), not the source tree; the UDP loop
// it served with (batched native addon or dgram) is printed and in the JSON.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse, stringify } from 'yaml';
import { installPacked } from '../../test/helpers/installed.js';
import { freePort } from '../../test/helpers/ports.js';
import { findProgram } from '../../test/helpers/programs.js';
import { runDnsperf } from './dnsperf.js';
import { type Peer, startGdnsd, startPowerDns } from './peers.js';
import { queryA } from './probe.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} expects a positive number`);
  return v;
};
const json = args.includes('--json');
const seconds = flag('--duration', 10);
const rounds = flag('--rounds', 3);
const workers = flag('--workers', 2);
const say = (s: string) => !json && process.stdout.write(`${s}\n`);
// steering.answers for Meridian; with home+fallback the peers serve the same two addresses, so answers match in size.
const answersAt = args.indexOf('--answers');
const answers = answersAt >= 0 ? args[answersAt + 1] : 'home';
if (answers !== 'home' && answers !== 'home+fallback')
  throw new Error('--answers expects home or home+fallback');
const withFallback = answers === 'home+fallback';

// Client subnet 171.64.0.0/24 (Stanford): Meridian locates it and answers us-west-2.
const ECS_OPTION = '8:00011800ab4000';
const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 604800 60
@ IN NS ns1.example.com.
ns1 IN A 192.0.2.53
www IN A 192.0.2.80
api 30 IN A 198.51.100.10
api 30 IN AAAA 2001:db8:2::10
${withFallback ? 'api 30 IN A 192.0.2.10\napi 30 IN AAAA 2001:db8:1::10\n' : ''}`;
const QUERIES = ['api.example.com A', 'api.example.com A', 'api.example.com AAAA', 'www.example.com A'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface MeridianPeer extends Peer {
  child: ChildProcess;
  loop: string;
  loopWhy: string;
}

async function startMeridian(bin: string, dir: string, native: boolean): Promise<MeridianPeer> {
  const config = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
  config.zone.records = [{ name: 'www', type: 'A', values: ['192.0.2.80'] }];
  config.zone.nameservers = [{ name: 'ns1.example.com', ipv4: ['192.0.2.53'] }];
  config.steering.answers = answers;
  // Rate limiting stays on, with a limit this one client cannot reach.
  config.dns = {
    listen: ['127.0.0.1:0'],
    admin: '127.0.0.1:0',
    workers,
    rateLimit: { responsesPerSecond: 1e9, burst: 1e9 },
  };
  const file = join(dir, native ? 'meridian.yaml' : 'meridian-js.yaml');
  writeFileSync(file, stringify(config));
  const child = spawn(process.execPath, [bin, 'dns', '--config', file], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn', MERIDIAN_DNS_NATIVE: native ? '1' : '0' },
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`meridian dns exited with ${code}`)));
  });
  const ready = JSON.parse(line);
  const port = Number(ready.udp[0].split(':').pop());
  const name = native ? 'meridian' : 'meridian-js';
  say(`${name.padEnd(11)} udp loop: ${ready.loop} (${ready.loopWhy})`);
  return {
    name,
    port,
    child,
    loop: ready.loop,
    loopWhy: ready.loopWhy,
    close: () =>
      new Promise((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function main() {
  if (!findProgram('dnsperf')) throw new Error('dnsperf is not installed (apt-get install dnsperf)');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-dns-'));
  const queryFile = join(dir, 'queries.txt');
  writeFileSync(queryFile, `${QUERIES.join('\n')}\n`);
  const servers: Peer[] = [];
  const meridians: MeridianPeer[] = [];
  try {
    const installed = installPacked((line) => say(`install: ${line}`));
    say(`meridian: ${installed.bin} (packed and installed from this tree)`);
    // "meridian" is the default build (batched UDP through the native addon when it builds here);
    // "meridian-js" the plain dgram loop, for comparison.
    meridians.push(await startMeridian(installed.bin, dir, true));
    if (!args.includes('--no-js')) meridians.push(await startMeridian(installed.bin, dir, false));
    servers.push(...meridians);
    if (findProgram('pdns_server'))
      servers.push(await startPowerDns(join(dir, 'pdns'), await freePort(), ZONE));
    else say('powerdns: pdns_server is not installed; skipped');
    if (findProgram('gdnsd')) servers.push(await startGdnsd(join(dir, 'gdnsd'), await freePort(), ZONE));
    else say('gdnsd: not installed; skipped');
    for (const s of servers) {
      const a = await queryA(s.port, 'api.example.com', 2000);
      say(`${s.name.padEnd(11)} 127.0.0.1:${s.port}  api.example.com A (no subnet) -> ${a}`);
    }
    say(
      `dnsperf: ${seconds} s per run, ${rounds} rounds, interleaved; queries: ${QUERIES.join(', ')}; ECS 171.64.0.0/24`,
    );
    const runs = new Map<string, number[]>(servers.map((s) => [s.name, []]));
    for (let r = 1; r <= rounds; r++) {
      for (const s of servers) {
        const { qps, lostPercent } = await runDnsperf({
          port: s.port,
          queryFile,
          seconds,
          ednsOption: ECS_OPTION,
        });
        runs.get(s.name)!.push(qps);
        say(
          `round ${r}  ${s.name.padEnd(11)} ${Math.round(qps).toString().padStart(8)} qps  (lost ${lostPercent}%)`,
        );
      }
    }
    const medians = Object.fromEntries([...runs].map(([name, xs]) => [name, Math.round(median(xs))]));
    const ratio = Object.fromEntries(
      servers
        .filter((s) => !s.name.startsWith('meridian'))
        .map((s) => [s.name, +(medians.meridian / medians[s.name]).toFixed(3)]),
    );
    const result = {
      benchmark: 'dns',
      measured: {
        cli: 'packed and installed (npm pack; npm install -g TARBALL --prefix DIR)',
        udpLoop: Object.fromEntries(meridians.map((m) => [m.name, { loop: m.loop, why: m.loopWhy }])),
        ecs: 'every query carries ECS 171.64.0.0/24 (dnsperf -E)',
      },
      seconds,
      rounds,
      workers,
      answers,
      queries: QUERIES,
      medians,
      runs: Object.fromEntries(runs),
      ratio,
      ratioJs: Object.fromEntries(
        servers
          .filter((s) => !s.name.startsWith('meridian') && medians['meridian-js'])
          .map((s) => [s.name, +(medians['meridian-js'] / medians[s.name]).toFixed(3)]),
      ),
      note: 'one machine (2 cores) shared with dnsperf and other work; compare ratios, not absolute numbers',
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      say('\nmedian QPS');
      for (const [name, m] of Object.entries(medians)) say(`  ${name.padEnd(11)} ${String(m).padStart(8)}`);
      for (const [name, x] of Object.entries(ratio)) say(`  meridian / ${name}: ${x}`);
      for (const [name, x] of Object.entries(result.ratioJs)) say(`  meridian-js / ${name}: ${x}`);
    }
  } finally {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
