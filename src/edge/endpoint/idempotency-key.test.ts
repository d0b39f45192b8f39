import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigText } from '../../config/load.js';
import { carriesIdempotencyKey } from './idempotency-key.js';

const cases: { name: string; headers: string[]; header?: string; expect: boolean }[] = [
  { name: 'one key, any case', headers: ['Host', 'a', 'Idempotency-Key', 'k1'], expect: true },
  { name: 'no key', headers: ['Host', 'a', 'Content-Type', 'text/plain'], expect: false },
  { name: 'empty key', headers: ['idempotency-key', ' '], expect: false },
  { name: 'two keys', headers: ['idempotency-key', 'k1', 'Idempotency-Key', 'k2'], expect: false },
  { name: 'a look-alike name', headers: ['idempotency-keys', 'k1'], expect: false },
  { name: 'a configured name', headers: ['X-Request-Key', 'k1'], header: 'x-request-key', expect: true },
  {
    name: 'the default name, another configured',
    headers: ['Idempotency-Key', 'k1'],
    header: 'x-request-key',
    expect: false,
  },
  { name: 'turned off', headers: ['Idempotency-Key', 'k1'], header: '', expect: false },
];
for (const c of cases) {
  test(`idempotency key: ${c.name}`, () => {
    assert.equal(carriesIdempotencyKey(c.headers, c.header ?? 'idempotency-key'), c.expect);
  });
}

const base = readFileSync('examples/two-regions.yaml', 'utf8');
test('edge.retry.idempotencyKeyHeader: default, lower-cased, off, and not a header name', () => {
  const parse = (yaml: string) => parseConfigText(`${base}\n${yaml}\n`, 'm.yaml');
  assert.equal(parse('').config?.edge.retry.idempotencyKeyHeader, 'idempotency-key');
  const named = parse('edge: { retry: { idempotencyKeyHeader: X-Request-Key } }');
  assert.equal(named.config?.edge.retry.idempotencyKeyHeader, 'x-request-key');
  assert.equal(
    parse("edge: { retry: { idempotencyKeyHeader: '' } }").config?.edge.retry.idempotencyKeyHeader,
    '',
  );
  const bad = parse("edge: { retry: { idempotencyKeyHeader: 'bad name:' } }");
  assert.equal(bad.config, undefined);
  assert.match(JSON.stringify(bad.problems), /idempotencyKeyHeader/);
});
