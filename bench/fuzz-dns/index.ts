// npm run bench -- fuzz-dns [--count N] [--seed S] [--probe-every N] [--json]
// Structure-aware hostile queries through the batched UDP loop, the dgram loop
// and TCP of real `meridian dns` processes (fuzz.ts); exits 1 on any crash or
// wrong answer. --json prints one JSON object.
import { runDnsFuzz } from './fuzz.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} expects a whole number`);
  return v;
};
const json = args.includes('--json');
const count = flag('--count', 1_000_000);
const seed = flag('--seed', Date.now() % 0xffffffff);
const probeEvery = flag('--probe-every', 64);
const say = (s: string) => !json && process.stdout.write(`${s}\n`);

const t0 = Date.now();
say(`fuzz-dns: ${count} messages, seed ${seed} (repeat with --seed ${seed})`);
const r = await runDnsFuzz({
  count,
  seed,
  probeEvery,
  progress: (line) => say(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: ${line}`),
});
const probeFailures = r.udpBatched.probeFailures + r.udpDgram.probeFailures + r.tcp.probeFailures;
const ok = r.crashes === 0 && probeFailures === 0;
if (json) process.stdout.write(`${JSON.stringify({ ...r, probeFailures, ok })}\n`);
else {
  for (const [name, t] of Object.entries({
    'udp batched': r.udpBatched,
    'udp dgram': r.udpDgram,
    tcp: r.tcp,
  })) {
    say(
      `${name.padEnd(12)} sent ${t.sent}, replies ${t.replies}, probes ${t.probes}, wrong/missing ${t.probeFailures}`,
    );
  }
  say(`batched loop available: ${r.batchedAvailable}`);
  say(`duration ${(r.durationMs / 1000).toFixed(1)} s, crashes ${r.crashes}`);
  for (const f of r.failures) say(`  ${f}`);
  say(ok ? 'ok' : 'FAILED');
}
process.exit(ok ? 0 : 1);
