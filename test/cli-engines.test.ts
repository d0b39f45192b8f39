// What `npm install -g meridian` resolves is the published npm-shrinkwrap.json: every production
// package in it must run on the oldest Node that package.json's engines allows (a fresh resolve
// once pulled a dependency wanting Node 22).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { admits } from './helpers/node-range.js';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));

interface Locked {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
}

test('the range reader agrees with semver on the ranges dependencies write', () => {
  const cases: [string, string, boolean][] = [
    ['>=20.18.1', '20.18.1', true],
    ['>=20.18.1', '20.18.0', false],
    ['>=22', '20.19.0', false],
    ['^16 || ^18 || >=20', '20.0.0', true],
    ['20.x || 22.x || 23.x', '20.5.0', true],
    ['20.x || 22.x', '21.0.0', false],
    ['>= 10.16.0', '20.0.0', true],
    ['^20.19.0 || >=22.12.0', '20.18.1', false],
    ['~20.18', '20.19.0', false],
    ['>=14 <21', '20.18.1', true],
    ['*', '20.0.0', true],
  ];
  for (const [range, version, expected] of cases) assert.equal(admits(range, version), expected, range);
});

test('every production dependency in npm-shrinkwrap.json supports the oldest Node that package.json allows', () => {
  const pkg = read('package.json');
  const oldest = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
  assert.ok(oldest, `package.json engines.node is ">=X.Y.Z", got "${pkg.engines.node}"`);
  assert.equal(oldest.split('.')[0], '20', 'Meridian supports Node 20');
  const shrinkwrap = read('npm-shrinkwrap.json');
  assert.equal(
    shrinkwrap.packages[''].version,
    pkg.version,
    'the shrinkwrap was generated from this package.json',
  );
  const production = Object.entries(shrinkwrap.packages as Record<string, Locked>).filter(
    ([path, p]) => path !== '' && !p.dev,
  );
  assert.ok(
    production.some(([path]) => path === 'node_modules/fastify'),
    'fastify is a production dependency',
  );
  const tooNew = production.flatMap(([path, p]) => {
    const range = Array.isArray(p.engines) ? undefined : p.engines?.node;
    return range && !admits(range, oldest) ? [`${path}@${p.version} wants node ${range}`] : [];
  });
  assert.deepEqual(tooNew, [], `needs a Node newer than ${oldest}`);
  for (const dep of Object.keys(pkg.dependencies))
    assert.ok(shrinkwrap.packages[`node_modules/${dep}`], `${dep} is locked in npm-shrinkwrap.json`);
});

test('the package ships its lockfile and LICENSE, and keeps one lockfile', () => {
  const pkg = read('package.json');
  for (const file of ['npm-shrinkwrap.json', 'LICENSE']) assert.ok(pkg.files.includes(file), file);
  assert.throws(() => read('package-lock.json'), /ENOENT/, 'npm-shrinkwrap.json is the only lockfile');
  const license = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.equal(pkg.license, 'Apache-2.0');
});
