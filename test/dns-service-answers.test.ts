// services[].ttl and services[].answers against a real `meridian dns`, asked with dig and kdig: two
// services of one zone answer with their own TTL and policy, as two Route 53 record sets would.
// The file is edited in place and the server reloads it (every zone.reloadInterval, 500 ms): no restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  addressesOf,
  dig,
  dnsConfig,
  type KdigJson,
  kdig,
  type RunningDns,
  startDns,
} from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

let server: RunningDns;
let file: string;
const STANFORD = '+subnet=171.64.0.0/24';

// biome-ignore lint/suspicious/noExplicitAny: a yaml document, edited freely
type Doc = Record<string, any>;

/** A second service, www, on the same origins: TTL 5 and home+fallback of its own. */
function addWww(doc: Doc) {
  doc.services.push({
    ...doc.services[0],
    name: 'www',
    hostname: 'www.example.com',
    ttl: 5,
    answers: 'home+fallback',
  });
}

function edit(change: (doc: Doc) => void) {
  const doc = parse(readFileSync(file, 'utf8'));
  change(doc);
  writeFileSync(file, stringify(doc));
}

/** Addresses in the order sent, and the TTLs they carry. */
function ask(name: string, type = 'A'): { addresses: string[]; ttls: number[] } {
  const a: KdigJson = kdig(server.port, [name, type, STANFORD]);
  return {
    addresses: addressesOf(a) as string[],
    ttls: [...new Set((a.answerRRs ?? []).map((rr) => rr.TTL))],
  };
}

/** The explanation's strings, each in quotes as kdig prints them. */
const why = (name: string) =>
  String(kdig(server.port, [`_meridian.${name}`, 'TXT', STANFORD]).answerRRs?.[0]?.rdataTXT ?? '');

/** Asks until the answer is `want` (the server reloads the file every 500 ms); generous for a loaded machine. */
async function until(name: string, want: { addresses: string[]; ttls: number[] }) {
  const started = Date.now();
  let got = ask(name);
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() - started < 15_000) {
    await new Promise((r) => setTimeout(r, 100));
    got = ask(name);
  }
  return got;
}

before(async () => {
  ({ file } = await dnsConfig(addWww));
  server = await startDns(file);
});
after(async () => {
  assert.equal(await server?.stop(), 0, 'SIGTERM ends meridian dns with exit code 0');
});

test('two services of one zone: each answers with its own TTL and policy', (t) => {
  if (!requireProgram(t, 'dig') || !requireProgram(t, 'kdig')) return;
  // api takes the zone's: zone.ttl 30, steering.answers home (the default).
  assert.deepEqual(ask('api.example.com'), { addresses: ['198.51.100.10'], ttls: [30] });
  // www its own: TTL 5, home first, then the next region.
  assert.deepEqual(ask('www.example.com'), { addresses: ['198.51.100.10', '192.0.2.10'], ttls: [5] });
  assert.deepEqual(ask('www.example.com', 'AAAA'), {
    addresses: ['2001:db8:2::10', '2001:db8:1::10'],
    ttls: [5],
  });
  // Asked in turn, from the same network (one cached steering decision), neither leaks into the other.
  for (let i = 0; i < 3; i++) {
    const short = (name: string) =>
      dig(server.port, [name, 'A', STANFORD, '+noall', '+answer'])
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/))
        .map(([, ttl, , , address]) => `${ttl} ${address}`);
    assert.deepEqual(short('api.example.com'), ['30 198.51.100.10']);
    assert.deepEqual(short('www.example.com'), ['5 198.51.100.10', '5 192.0.2.10']);
  }
});

test('_meridian TXT says each service’s own policy and TTL', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const api = why('api.example.com');
  assert.match(api, /"answers=home"/);
  assert.match(api, /"snapshot=\d+ ttl=30"/);
  const www = why('www.example.com');
  assert.match(www, /"answers=home\+fallback fallback=us-east-1"/);
  assert.match(www, /"snapshot=\d+ ttl=5"/);
});

test('a service’s answers: home overrides steering.answers home+fallback; one without overrides takes the zone’s', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  edit((doc) => {
    doc.steering.answers = 'home+fallback';
    doc.zone.ttl = 20;
    doc.services[0].answers = 'home';
    delete doc.services[1].ttl;
    delete doc.services[1].answers;
  });
  const www = { addresses: ['198.51.100.10', '192.0.2.10'], ttls: [20] };
  assert.deepEqual(await until('www.example.com', www), www);
  assert.deepEqual(ask('api.example.com'), { addresses: ['198.51.100.10'], ttls: [20] });
  assert.equal(server.child.exitCode, null, 'same process, no restart');
});
