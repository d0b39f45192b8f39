import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/index.js';
import { labClocks } from './region-args.js';

test("the lab's clocks are whole milliseconds at any duration (a 40 s run's 333.33 ms broke the edges' peer probes)", () => {
  const config = loadConfig('examples/two-regions.yaml');
  for (const durationS of [6, 30, 40, 45, 61, 77]) {
    const clocks = labClocks(config, durationS);
    for (const [name, ms] of Object.entries(clocks))
      assert.ok(Number.isInteger(ms), `${durationS} s: ${name} = ${ms}`);
  }
  assert.equal(labClocks(config, 40).healthCheckIntervalMs, 333);
});
