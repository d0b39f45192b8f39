// npm run bench -- fuzz-http [--cases N] [--seed S] [--json]
// The differential HTTP fuzzer (test/helpers/http-fuzz): N random and mutated
// request heads (default 1,000,000) through the edge's fast inbound path and
// llhttp in process; exits 1 on any disagreement and prints the first few.
import { runDifferential } from '../../test/helpers/http-fuzz/differential.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} expects a non-negative integer`);
  return v;
};
const json = args.includes('--json');
const cases = flag('--cases', 1_000_000);
const seed = flag('--seed', 0x5eed);

const s = runDifferential(cases, seed);
const casesPerSecond = Math.round(cases / (Math.max(1, s.ms) / 1000));
if (json) {
  process.stdout.write(`${JSON.stringify({ benchmark: 'fuzz-http', ...s, casesPerSecond })}\n`);
} else {
  process.stdout.write(
    `fuzz-http: ${cases} cases, seed ${seed}, ${(s.ms / 1000).toFixed(1)} s (${casesPerSecond}/s)\n` +
      `  served by the fast path ${s.served}, handed to Node ${s.handedOff}, waiting for more ${s.waiting}\n` +
      `  disagreements: ${s.disagreements}\n`,
  );
  for (const e of s.examples)
    process.stdout.write(`  #${e.index}: ${e.why}\n    ${JSON.stringify(e.input)}\n`);
}
process.exitCode = s.disagreements === 0 ? 0 : 1;
