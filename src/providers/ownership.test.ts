import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';
import { driftOf, heldAfter } from './drift.js';
import type { RecordSet } from './model.js';
import { markerRecordSet, ownerInMarker, ownershipOf } from './ownership.js';

const a = (name: string, ip: string): RecordSet => ({ name, type: 'A', ttl: 30, records: [ip] });
const txt = (name: string, text: string): RecordSet => ({ name, type: 'TXT', ttl: 300, records: [text] });

test('ownerInMarker reads external-dns-style markers, quoted or not', () => {
  const cases: { name: string; records: string[]; expect: string | null }[] = [
    { name: 'ours', records: ['heritage=meridian,owner=default'], expect: 'default' },
    { name: 'quoted', records: ['"heritage=meridian,owner=eu"'], expect: 'eu' },
    { name: 'among others', records: ['v=spf1 -all', 'heritage=meridian,owner=x'], expect: 'x' },
    { name: 'external-dns', records: ['heritage=external-dns,external-dns/owner=default'], expect: null },
    { name: 'no owner', records: ['heritage=meridian'], expect: null },
    { name: 'empty owner', records: ['heritage=meridian,owner='], expect: null },
  ];
  for (const c of cases)
    assert.equal(ownerInMarker({ ...txt('_m', ''), records: c.records }), c.expect, c.name);
  assert.equal(ownerInMarker(undefined), null);
});

test('ownershipOf: own and free names are managed; foreign and other owners are left alone', () => {
  const current = [
    markerRecordSet('mine.example.com', 'me'),
    a('mine.example.com', '192.0.2.1'),
    markerRecordSet('theirs.example.com', 'them'),
    a('theirs.example.com', '192.0.2.2'),
    a('foreign.example.com', '192.0.2.3'),
    txt('_meridian-owner.odd.example.com', 'hello'),
  ];
  const names = [
    'mine.example.com',
    'theirs.example.com',
    'foreign.example.com',
    'odd.example.com',
    'free.example.com',
  ];
  const o = ownershipOf(names, current, 'me');
  assert.deepEqual(o.managed, ['mine.example.com', 'free.example.com']);
  assert.deepEqual(o.claimed, ['free.example.com']);
  assert.deepEqual(
    o.leftAlone.map((l) => l.name),
    ['theirs.example.com', 'foreign.example.com', 'odd.example.com'],
  );
  assert.match(o.leftAlone[0].reason, /owner=them/);
  assert.match(o.leftAlone[1].reason, /records Meridian did not write \(A\)/);

  // --adopt: a name with records and no marker at all is taken; a marked or odd one never is.
  const adopted = ownershipOf(names, current, 'me', true);
  assert.deepEqual(adopted.managed, ['mine.example.com', 'foreign.example.com', 'free.example.com']);
  assert.deepEqual(adopted.claimed, ['foreign.example.com', 'free.example.com']);
  assert.deepEqual(
    adopted.leftAlone.map((l) => l.name),
    ['theirs.example.com', 'odd.example.com'],
  );
});

test('driftOf: changed, added and removed behind our back; not what the snapshot changed', () => {
  const before = heldAfter(
    ['api.example.com'],
    [a('api.example.com', '192.0.2.1'), txt('api.example.com', 'x')],
  );
  const desiredSame = [a('api.example.com', '192.0.2.1'), txt('api.example.com', 'x')];
  assert.deepEqual(driftOf(undefined, [], desiredSame), [], 'no earlier sync: no drift');
  assert.deepEqual(driftOf(before, desiredSame, desiredSame), []);
  assert.deepEqual(
    driftOf(before, [a('api.example.com', '203.0.113.9')], desiredSame),
    ['api.example.com|A|', 'api.example.com|TXT|'],
    'one changed, one removed',
  );
  const added = [
    ...desiredSame,
    { ...a('api.example.com', '203.0.113.9'), type: 'AAAA' as const, records: ['::1'] },
  ];
  assert.deepEqual(driftOf(before, added, desiredSame), ['api.example.com|AAAA|']);
  const moved = [a('api.example.com', '198.51.100.1'), txt('api.example.com', 'x')];
  assert.deepEqual(driftOf(before, desiredSame, moved), [], 'a new snapshot is not drift');
  assert.deepEqual(driftOf(before, moved, moved), [], 'changed by hand to what is wanted: nothing to repair');
  assert.deepEqual(driftOf(before, [a('other.example.com', '1.2.3.4')], []), [], 'names not managed then');
});

test('backoffDelay: full jitter under an exponential ceiling, capped', () => {
  const b = { baseMs: 100, capMs: 1000 };
  assert.equal(
    backoffDelay(0, b, () => 0.999),
    99,
  );
  assert.equal(
    backoffDelay(3, b, () => 0.5),
    400,
  );
  assert.equal(
    backoffDelay(4, b, () => 0.999),
    999,
    'capped',
  );
  assert.equal(
    backoffDelay(500, b, () => 0.999),
    999,
    'no overflow',
  );
  assert.equal(
    backoffDelay(2, b, () => 0),
    0,
  );
});
