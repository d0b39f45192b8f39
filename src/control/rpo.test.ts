import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigText } from '../config/index.js';
import { controlRpo } from './rpo.js';

const base = readFileSync(new URL('../../examples/two-regions.yaml', import.meta.url), 'utf8');
const replication = `
replication:
  rpo: 3s
  regions:
    - { region: us-east-1, redis: "redis://127.0.0.1:6379" }
`;

function parse(text: string) {
  const { config, problems } = parseConfigText(text, 'meridian.yaml');
  assert.deepEqual(problems, []);
  return config!;
}

test('controlRpo: control.rpo wins, else replication.rpo when data is replicated, else unchecked', () => {
  assert.equal(controlRpo(parse(base)), undefined);
  assert.equal(controlRpo(parse(`${base}${replication}`)), 3000);
  assert.equal(controlRpo(parse(`${base}${replication}control: { rpo: 800ms }\n`)), 800);
  assert.equal(controlRpo(parse(`${base}\ncontrol: { rpo: 1s }\n`)), 1000);
});
