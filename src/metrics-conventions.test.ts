import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HEAP_AFTER_GC, processMetrics } from './metrics-conventions.js';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  const m = await processMetrics().getSingleMetric(HEAP_AFTER_GC)!.get();
  return m.values[0].value;
}
async function gcAndWait() {
  fullGc();
  await new Promise((r) => setTimeout(r, 50));
}
const arrays = () => Array.from({ length: 400 }, () => Array.from({ length: 20_000 }, (_, i) => i));

test('the heap after a major GC moves at major GCs only, and leaves out garbage', async () => {
  await gcAndWait();
  const settled = await heapAfterGc();

  let kept: number[][] | null = arrays();
  assert.ok((await heapAfterGc()) < settled + 10e6, 'no major GC yet: the arrays are not counted');
  await gcAndWait();
  const holding = await heapAfterGc();
  assert.ok(holding > settled + 30e6, `${holding} after a GC that kept 60 MB of arrays (before: ${settled})`);

  assert.equal(kept.length, 400);
  kept = null;
  const garbageCounted = process.memoryUsage().heapUsed;
  assert.ok(garbageCounted > settled + 30e6, 'the heap in use still counts the dropped arrays');
  await gcAndWait();
  assert.ok((await heapAfterGc()) < holding - 30e6, 'the next major GC collected them');
});
