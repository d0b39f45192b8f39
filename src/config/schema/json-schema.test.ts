import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { CONFIG_SCHEMA_ID, configJsonSchema } from './index.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON paths of every object property (at any depth, in any branch) whose schema has no description. */
function undescribed(node: unknown, path: string, missing: string[]): string[] {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) undescribed(n, `${path}[${i}]`, missing);
  }
  if (!isObject(node)) return missing;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) {
      for (const [name, prop] of Object.entries(value)) {
        const description = isObject(prop) ? prop.description : undefined;
        if (typeof description !== 'string' || description.trim() === '') missing.push(`${path}.${name}`);
        undescribed(prop, `${path}.${name}`, missing);
      }
    } else if (key !== 'default' && key !== 'enum' && key !== 'const' && key !== 'examples') {
      undescribed(
        value,
        key === 'items' ? `${path}[]` : key === 'anyOf' || key === 'oneOf' ? path : `${path}.${key}`,
        missing,
      );
    }
  }
  return missing;
}

const examplesDir = join(import.meta.dirname, '../../../examples');
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));

test('the JSON Schema has a stable $id, a title and a description for the whole file', () => {
  const schema = configJsonSchema();
  assert.equal(schema.$id, CONFIG_SCHEMA_ID);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.ok(typeof schema.title === 'string' && schema.title.length > 0);
});

test('every property of every object in the JSON Schema has a description', () => {
  const missing = undescribed(configJsonSchema(), '$', []);
  assert.deepEqual(missing, [], `properties without a description:\n  ${missing.join('\n  ')}`);
});

test('the walk finds a property without a description (the check above can fail)', () => {
  const schema = { properties: { a: { description: 'ok', properties: { b: { type: 'string' } } } } };
  assert.deepEqual(undescribed(schema, '$', []), ['$.a.b']);
});

test('descriptions survive default, prefault, optional and preprocess wrappers', () => {
  const props = (configJsonSchema().properties ?? {}) as Record<string, Json>;
  const control = props.control.properties as Record<string, Json>;
  assert.match(String(control.listen.description), /listens on/); // .default()
  assert.match(String(control.outlier.description), /Relative health/); // .prefault()
  assert.match(String(control.rpo.description), /Recovery-point objective/); // .optional()
  const edge = props.edge.properties as Record<string, Json>;
  assert.match(String(edge.admin.description), /Admin port/); // z.preprocess, then .prefault()
});

test('the JSON Schema accepts every example config', () => {
  assert.ok(examples.length > 0);
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  const validate = ajv.compile(configJsonSchema());
  for (const file of examples) {
    const ok = validate(parse(readFileSync(join(examplesDir, file), 'utf8')));
    assert.ok(ok, `${file}: ${ajv.errorsText(validate.errors)}`);
  }
});

test('the JSON Schema rejects a config with an unknown key', () => {
  const ajv = new Ajv2020({ strict: false, logger: false });
  const validate = ajv.compile(configJsonSchema());
  const config = parse(readFileSync(join(examplesDir, examples[0]), 'utf8'));
  assert.equal(validate({ ...config, colour: 'blue' }), false);
});
