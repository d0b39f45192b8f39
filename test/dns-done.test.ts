// The "done when": examples/two-regions.yaml served by `meridian dns`,
// asked with kdig; marking a region DOWN in the file moves answers, no restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { addressesOf, dnsConfig, ecsOf, kdig, type RunningDns, startDns } from './dns-support.js';
import { requireProgram } from './helpers/programs.js';

let server: RunningDns;
let file: string;

before(async () => {
  ({ file } = await dnsConfig());
  server = await startDns(file);
});
after(async () => {
  assert.equal(await server?.stop(), 0, 'SIGTERM ends meridian dns with exit code 0');
});

test('a Stanford client subnet is answered from us-west-2 with a non-zero ECS scope', (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const a = kdig(server.port, ['api.example.com', 'A', '+subnet=171.64.0.0/24']);
  assert.equal(a.RCODE, 0);
  assert.equal(a.AA, 1);
  assert.deepEqual(addressesOf(a), ['198.51.100.10']);
  const ecs = ecsOf(a);
  assert.ok(ecs && ecs.scope > 0, `ECS scope ${JSON.stringify(ecs)}`);
  assert.equal(ecs.source, 24);
});

test('a Columbia client subnet is answered from us-east-1, and moves to us-west-2 when us-east-1 is marked DOWN in the file', async (t) => {
  if (!requireProgram(t, 'kdig')) return;
  const ask = () => addressesOf(kdig(server.port, ['api.example.com', 'A', '+subnet=128.59.0.0/24']));
  assert.deepEqual(ask(), ['192.0.2.10']);
  const doc = parse(readFileSync(file, 'utf8'));
  doc.regions.find((r: { id: string }) => r.id === 'us-east-1').health = 'DOWN';
  const edited = Date.now();
  writeFileSync(file, stringify(doc));
  // The server re-reads the file every zone.reloadInterval (500 ms); poll well past that.
  let answer = ask();
  while (answer[0] !== '198.51.100.10' && Date.now() - edited < 10_000) {
    await new Promise((r) => setTimeout(r, 50));
    answer = ask();
  }
  const took = Date.now() - edited;
  t.diagnostic(`answer moved ${took} ms after the edit`);
  assert.deepEqual(answer, ['198.51.100.10']);
  assert.equal(server.child.exitCode, null, 'same process, no restart');
});
