// What the AWS SDK package itself carries of Route 53's API, read at run time
// from the installed @aws-sdk/client-route-53, so that the stand-in cannot
// drift from the client it serves:
// - operations, their HTTP method, URI and query bindings, shapes, member
//   types, member order, required members, list member names and error
//   statuses: the package's smithy schemas (dist-*/schemas, exported as `X$`);
// - which member takes which enum: the package's type declarations
//   (dist-types/models/models_0.d.ts, e.g. `Type: RRType | undefined`) joined
//   with its enum objects (`RRType`, `ChangeAction`, ...).
// The package carries no length, range or pattern constraints; those are in
// route53-documented.ts, written from AWS's API reference.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as sdk from '@aws-sdk/client-route-53';
import { NormalizedSchema } from '@smithy/core/schema';
import ts from 'typescript';

export const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
export type Shape = NormalizedSchema;

const exported = sdk as unknown as Record<string, unknown>;

export interface Operation {
  name: string;
  method: string;
  /** e.g. /2013-04-01/hostedzone/{HostedZoneId}/rrset */
  uri: string;
  input: Shape;
  output: Shape;
}

/** Every operation in the package's schemas (`[9, namespace, name, {http: [method, uri, code]}, input, output]`). */
export const OPERATIONS: Operation[] = Object.entries(exported)
  .filter(([k, v]) => k.endsWith('$') && Array.isArray(v) && v[0] === 9)
  .map(([, v]) => {
    const [, , name, traits, input, output] = v as [
      number,
      string,
      string,
      { http: [string, string] },
      unknown,
      unknown,
    ];
    return {
      name,
      method: traits.http[0],
      uri: traits.http[1],
      input: NormalizedSchema.of(input as never),
      output: NormalizedSchema.of(output as never),
    };
  });

export function operation(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name);
  if (!op) throw new Error(`the SDK package has no operation ${name}`);
  return op;
}

/** A struct's members in schema order, each with whether the package marks it required. */
export function members(shape: Shape): { name: string; shape: Shape; required: boolean }[] {
  // A struct schema is [3, namespace, name, traits, memberNames, memberSchemas, requiredCount]:
  // the first requiredCount members are the required ones (as @smithy/core's protocols read it).
  const raw = shape.getSchema() as unknown as [number, string, string, unknown, string[], unknown[], number?];
  const required = raw[6] ?? 0;
  return [...shape.structIterator()].map(([name, member]) => ({
    name,
    shape: member,
    required: raw[4].indexOf(name) < required,
  }));
}

/** The element name a list's members are written with (`<Changes><Change>`). */
export const listMemberName = (list: Shape) => list.getValueSchema().getMergedTraits().xmlName ?? 'member';

/** HTTP status the package's schema gives an error code, when it gives one. */
export function errorStatus(code: string): number | undefined {
  const schema = exported[`${code}$`];
  if (!Array.isArray(schema) || schema[0] !== -3) return undefined;
  return (schema[3] as { httpError?: number }).httpError;
}

const enumObjects = new Map(
  Object.entries(exported).filter(
    (e): e is [string, Record<string, string>] =>
      typeof e[1] === 'object' &&
      e[1] !== null &&
      !Array.isArray(e[1]) &&
      Object.keys(e[1]).length > 0 &&
      Object.values(e[1]).every((v) => typeof v === 'string'),
  ),
);

/** "Struct.Member" -> the enum's values, for every member the declarations type with an enum. */
function readMemberEnums(): Map<string, string[]> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@aws-sdk/client-route-53/package.json'));
  const file = join(root, 'dist-types', 'models', 'models_0.d.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  const out = new Map<string, string[]>();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member) || !member.type || !ts.isIdentifier(member.name)) continue;
      const types = ts.isUnionTypeNode(member.type) ? member.type.types : [member.type];
      for (const t of types) {
        const name = ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName) ? t.typeName.text : undefined;
        const values = name ? enumObjects.get(name) : undefined;
        if (values) out.set(`${statement.name.text}.${member.name.text}`, Object.values(values));
      }
    }
  }
  return out;
}

export const MEMBER_ENUMS = readMemberEnums();
