// steering.answers against a real `meridian dns`, asked with dig and kdig: `home` answers one region;
// `home+fallback` answers the chosen region first, then the next region that is up (never a DOWN one).
// The file is edited in place and the server reloads it (every zone.reloadInterval, 500 ms): no restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { addEurope, addressesOf, dig, dnsConfig, kdig, type RunningDns, startDns } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

let server: RunningDns;
let file: string;
const STANFORD = '+subnet=171.64.0.0/24';

// biome-ignore lint/suspicious/noExplicitAny: a yaml document, edited freely
function edit(change: (doc: Record<string, any>) => void) {
  const doc = parse(readFileSync(file, 'utf8'));
  change(doc);
  writeFileSync(file, stringify(doc));
}

/** dig +short, one address a line, in the order the server sent them. */
const digA = () =>
  dig(server.port, ['api.example.com', 'A', STANFORD, '+short'])
    .trim()
    .split('\n')
    .filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));

/** Asks until the answer is `want` (the server reloads the file every 500 ms); generous for a loaded machine. */
async function until(ask: () => string[], want: string[]) {
  const started = Date.now();
  let got = ask();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() - started < 15_000) {
    await new Promise((r) => setTimeout(r, 100));
    got = ask();
  }
  return got;
}

before(async () => {
  ({ file } = await dnsConfig(addEurope));
  server = await startDns(file);
});
after(async () => {
  assert.equal(await server?.stop(), 0, 'SIGTERM ends meridian dns with exit code 0');
});

test('home (the default): one region in the answer', (t) => {
  if (!requireProgram(t, 'dig')) return;
  assert.deepEqual(digA(), ['198.51.100.10']);
});

test('home+fallback: the home region first, then the nearest other region, in that order every time', async (t) => {
  if (!requireProgram(t, 'dig') || !requireProgram(t, 'kdig')) return;
  edit((doc) => {
    doc.steering.answers = 'home+fallback';
  });
  assert.deepEqual(await until(digA, ['198.51.100.10', '192.0.2.10']), ['198.51.100.10', '192.0.2.10']);
  for (let i = 0; i < 5; i++) assert.deepEqual(digA(), ['198.51.100.10', '192.0.2.10']);
  const aaaa = kdig(server.port, ['api.example.com', 'AAAA', STANFORD]);
  assert.deepEqual(addressesOf(aaaa), ['2001:db8:2::10', '2001:db8:1::10']);
  const why = JSON.stringify(kdig(server.port, ['_meridian.api.example.com', 'TXT', STANFORD]).answerRRs);
  assert.match(why, /answers=home\+fallback fallback=us-east-1/);
});

test('home+fallback: a DOWN region is never the fallback; the next region that is up is', async (t) => {
  if (!requireProgram(t, 'dig') || !requireProgram(t, 'kdig')) return;
  edit((doc) => {
    doc.regions.find((r: { id: string }) => r.id === 'us-east-1').health = 'DOWN';
  });
  const want = ['198.51.100.10', '203.0.113.10'];
  assert.deepEqual(await until(digA, want), want);
  const why = JSON.stringify(kdig(server.port, ['_meridian.api.example.com', 'TXT', STANFORD]).answerRRs);
  assert.match(why, /fallback=eu-west-1/);
  assert.equal(server.child.exitCode, null, 'same process, no restart');
});
