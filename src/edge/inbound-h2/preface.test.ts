import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Budget } from './budget.js';
import { matchPreface, NOT_PREFACE, PREFACE, PREFACE_PARTIAL, PREFACE_WHOLE } from './preface.js';

const cases: { name: string; input: Buffer; expect: number }[] = [
  { name: 'the whole preface', input: PREFACE, expect: PREFACE_WHOLE },
  {
    name: 'preface and a SETTINGS frame',
    input: Buffer.concat([PREFACE, Buffer.alloc(9)]),
    expect: PREFACE_WHOLE,
  },
  { name: 'its first line only', input: PREFACE.subarray(0, 18), expect: PREFACE_PARTIAL },
  { name: 'one byte short', input: PREFACE.subarray(0, 23), expect: PREFACE_PARTIAL },
  { name: 'an HTTP/1.1 POST', input: Buffer.from('POST / HTTP/1.1\r\n\r\n'), expect: NOT_PREFACE },
  {
    name: 'PRI as an HTTP/1.1 method',
    input: Buffer.from('PRI / HTTP/1.1\r\nHost: a\r\n\r\n'),
    expect: NOT_PREFACE,
  },
  {
    name: 'the preface with a wrong tail',
    input: Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'),
    expect: NOT_PREFACE,
  },
];
for (const c of cases) test(`matchPreface: ${c.name}`, () => assert.equal(matchPreface(c.input), c.expect));

test('Budget: a burst, then the refill rate', () => {
  const b = new Budget(3, 2, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.take(499), false); // 0.998 tokens
  assert.equal(b.take(501), true);
  assert.equal(b.take(10_000), true); // refills to the burst, not beyond
  assert.deepEqual([b.take(10_000), b.take(10_000), b.take(10_000)], [true, true, false]);
});
