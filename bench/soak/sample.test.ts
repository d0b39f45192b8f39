import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHeap, withDeadline } from './sample.js';

test('withDeadline: a promise that never settles gives null once the time is up', async () => {
  assert.equal(await withDeadline(new Promise(() => {}), 20), null);
});

test('withDeadline: a value in time is kept, a rejection is null', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000), 7);
  assert.equal(await withDeadline(Promise.reject(new Error('x')), 1000), null);
});

test('parseHeap: what the last GC left where exported (Node, Go), else heap in use', () => {
  const node = 'nodejs_heap_size_used_bytes 3000\n';
  const ours = 'meridian_nodejs_heap_used_after_major_gc_bytes{worker="1"} 2000\n';
  assert.equal(parseHeap(node + ours), 2000);
  assert.equal(parseHeap(node), 3000);
  assert.equal(parseHeap('go_memstats_heap_alloc_bytes 4.5e+07\n'), 45e6);
  assert.equal(parseHeap('go_memstats_heap_alloc_bytes 4.5e+07\ngo_memstats_next_gc_bytes 6e+07\n'), 30e6);
  assert.equal(parseHeap('process_resident_memory_bytes 1\n'), null);
});
