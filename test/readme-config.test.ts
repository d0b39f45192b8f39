// Every yaml block in a README must parse: a whole file on its own, a section
// merged over examples/two-regions.yaml (CoreDNS's readme_test, for us).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { formatProblem, parseConfigText } from '../src/config/index.js';

function readmes(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return readmes(path);
    return name === 'README.md' ? [path] : [];
  });
}

const base = parse(readFileSync('examples/two-regions.yaml', 'utf8'));
const files = ['README.md', ...readmes('src')];

test('there is a README in every part folder', () => {
  for (const dir of readdirSync('src')) {
    if (statSync(join('src', dir)).isDirectory() && dir !== 'cli') {
      assert.ok(files.includes(join('src', dir, 'README.md')), `src/${dir}/README.md`);
    }
  }
});

for (const file of files) {
  const blocks = [...readFileSync(file, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  blocks.forEach((block, i) => {
    test(`${file} yaml block ${i + 1} is valid config`, () => {
      const doc = parse(block);
      const whole = 'regions' in doc && 'zone' in doc ? doc : { ...base, ...doc };
      const { problems } = parseConfigText(stringify(whole), `${file}#${i + 1}`);
      assert.deepEqual(problems.map(formatProblem), []);
    });
  });
}
