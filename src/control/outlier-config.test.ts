import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigText } from '../config/index.js';

const base = readFileSync('examples/two-regions.yaml', 'utf8');
const withOutlier = (yaml: string) => parseConfigText(`${base}\ncontrol:\n  outlier:\n${yaml}`, 'm.yaml');

test('control.outlier defaults: on, the values SPEC14 names', () => {
  const { config, problems } = parseConfigText(base, 'm.yaml');
  assert.deepEqual(problems, []);
  assert.deepEqual(config!.control.outlier, {
    enabled: true,
    minRequestsPerSecond: 5,
    errorRateMargin: 0.05,
    errorRateRatio: 3,
    p99Ratio: 3,
    p99Margin: 200,
    fallAfter: 3000,
    riseAfter: 10_000,
    maxAutoEvacuated: null,
    steps: [50, 0],
    stepInterval: 1000,
    probeAfter: 30_000,
    restoreSteps: [10, 50, 100],
  });
});

const bad: { name: string; yaml: string; path: string; message: RegExp }[] = [
  {
    name: 'evacuation steps going up',
    yaml: '    steps: [0, 50]',
    path: 'control.outlier.steps',
    message: /going down/,
  },
  {
    name: 'restore steps going down',
    yaml: '    restoreSteps: [50, 10]',
    path: 'control.outlier.restoreSteps',
    message: /going up/,
  },
  {
    name: 'a ratio below 1',
    yaml: '    errorRateRatio: 0.5',
    path: 'control.outlier.errorRateRatio',
    message: />=1/,
  },
  {
    name: 'a bad duration',
    yaml: '    fallAfter: soon',
    path: 'control.outlier.fallAfter',
    message: /duration/,
  },
  {
    name: 'an unknown key',
    yaml: '    fallafter: 3s',
    path: 'control.outlier.fallafter',
    message: /unknown key/,
  },
];

for (const c of bad) {
  test(`control.outlier problem: ${c.name}`, () => {
    const { config, problems } = withOutlier(c.yaml);
    assert.equal(config, undefined);
    assert.deepEqual(
      problems.map((p) => p.path),
      [c.path],
    );
    assert.match(problems[0].message, c.message);
  });
}
