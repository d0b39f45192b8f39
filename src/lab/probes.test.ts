import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsProbe } from './probes.js';

test('DnsProbe.shiftAway: until the dead region leaves the first place, or the whole answer', () => {
  const probe = new DnsProbe(
    () => [],
    'api.example.com',
    new Map(),
    () => undefined,
    () => 0,
  );
  const sample = (t: number, ...regions: string[]) =>
    probe.samples.push({ t, probe: 'p', region: regions[0] ?? '', regions });
  sample(900, 'east', 'west');
  sample(1100, 'east', 'west'); // the kill was at 1000
  sample(1600, 'west', 'east'); // rotated: east no longer first, still in the answer
  sample(2100); // a failed query is not an answer
  sample(2600, 'west');
  sample(3100, 'west');
  assert.equal(probe.shiftAway('east', 1000, 5000), 100, 'first address: east last seen first at 1100');
  assert.equal(probe.shiftAway('east', 1000, 5000, true), 600, 'anywhere: east last named at 1600');
  assert.equal(probe.shiftAway('east', 1000, 2000, true), null, 'never gone before 2000');
});
