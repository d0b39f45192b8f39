import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffRecordSets } from './diff.js';
import type { RecordSet } from './model.js';

const set = (type: 'A' | 'AAAA', records: string[]): RecordSet => ({
  name: 'www.example.com',
  type,
  ttl: 30,
  records,
});

test('an address spelled differently by the provider is the same record: no change', () => {
  const desired = [
    set('AAAA', ['2001:DB8::ABCD', '::ffff:192.0.2.1', '2001:db8:0:0:1:0:0:1']),
    { ...set('A', ['192.0.2.10']), name: 'v4.example.com' },
  ];
  const listed = [
    set('AAAA', ['::ffff:c000:201', '2001:db8::abcd', '2001:db8::1:0:0:1']),
    { ...set('A', ['192.0.2.10']), name: 'v4.example.com' },
  ];
  const diff = diffRecordSets(listed, desired);
  assert.deepEqual(diff.changes, []);
  assert.equal(diff.unchanged, 2);
});

test('a different address is still a change, written in canonical form', () => {
  const diff = diffRecordSets([set('AAAA', ['2001:db8::abcd'])], [set('AAAA', ['2001:DB8::ABCE'])]);
  assert.equal(diff.changes.length, 1);
  assert.deepEqual(diff.changes[0].action === 'put' && diff.changes[0].recordSet.records, ['2001:db8::abce']);
});
