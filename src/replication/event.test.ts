import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeridianError } from '../errors.js';
import {
  decodeBatch,
  encodeBatch,
  encodeEvent,
  joinEncodedBuffers,
  joinEncodedEvents,
  type ReplicationEvent,
} from './event.js';
import { formatHlc } from './hlc.js';

const hlc = formatHlc({ wall: 1_700_000_000_000, counter: 3, origin: 'us-east-1' });
const good: ReplicationEvent[] = [
  { op: 'set', key: 'user:1', value: 'ada', expireAt: 1_700_000_060_000, hlc, at: 1_700_000_000_000 },
  { op: 'del', key: 'user:2', hlc, at: 1_700_000_000_000 },
  { op: 'inv', key: 'session:9', hlc, at: 1_700_000_000_000 },
];

test('a batch survives the wire unchanged', () => {
  const out = decodeBatch(encodeBatch({ origin: 'us-east-1', events: good }), 'us-east-1');
  assert.deepEqual(out, { origin: 'us-east-1', events: good, rejected: [] });
});

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const wholeMessageCases = [
  { name: 'not JSON', input: bytes('{nope') },
  { name: 'not a batch', input: bytes({ hello: 1 }) },
  { name: 'wrong version', input: bytes({ v: 2, o: 'us-east-1', e: [] }) },
  { name: 'origin of another stream', input: bytes({ v: 1, o: 'us-west-2', e: [] }) },
];
for (const c of wholeMessageCases) {
  test(`whole message refused: ${c.name}`, () => {
    assert.throws(
      () => decodeBatch(c.input, 'us-east-1'),
      (e) => isMeridianError(e) && e.code === 'MALFORMED_EVENT',
    );
  });
}

const eventCases = [
  { name: 'unknown op', input: { op: 'incr', k: 'a', h: hlc, at: 1 } },
  { name: 'empty key', input: { op: 'del', k: '', h: hlc, at: 1 } },
  { name: 'bad stamp', input: { op: 'del', k: 'a', h: '12', at: 1 } },
  { name: 'stamp of another region', input: { op: 'del', k: 'a', h: hlc.replace('us-east-1', 'x'), at: 1 } },
  { name: 'set without value', input: { op: 'set', k: 'a', h: hlc, at: 1 } },
  { name: 'set with a bad expiry', input: { op: 'set', k: 'a', val: 'v', exp: -5, h: hlc, at: 1 } },
  { name: 'no time', input: { op: 'del', k: 'a', h: hlc } },
  { name: 'not an object', input: 42 },
];
for (const c of eventCases) {
  test(`event refused, the rest kept: ${c.name}`, () => {
    const wire = { v: 1, o: 'us-east-1', e: [c.input, { op: 'del', k: 'ok', h: hlc, at: 1 }] };
    const out = decodeBatch(bytes(wire), 'us-east-1');
    assert.equal(out.rejected.length, 1);
    assert.deepEqual(
      out.events.map((e) => e.key),
      ['ok'],
    );
  });
}

test('joinEncodedBuffers writes the bytes joinEncodedEvents writes', () => {
  const encoded = [...good.map(encodeEvent), encodeEvent({ ...good[0], value: 'é ✓ "quoted"' })];
  for (const some of [[], encoded.slice(0, 1), encoded]) {
    const joined = joinEncodedBuffers(
      'us-east-1',
      some.map((e) => Buffer.from(e)),
    );
    assert.deepEqual(joined, Buffer.from(joinEncodedEvents('us-east-1', some)));
  }
});
