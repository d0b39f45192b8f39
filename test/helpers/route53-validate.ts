// Checks an HTTP request against the Route 53 model the SDK package carries
// (route53-model.ts) plus the documented constraints (route53-documented.ts),
// and turns it into the operation's input object. A request that breaks them
// is refused as Route 53 refuses it: InvalidInput, HTTP 400. Body errors are
// worded as Route 53's XML schema validation words them ("Invalid XML ;
// cvc-..."); URI and query errors in AWS's "1 validation error detected" form.
import { DOCUMENTED, type Documented } from './route53-documented.js';
import {
  listMemberName,
  MEMBER_ENUMS,
  members,
  NS,
  OPERATIONS,
  type Operation,
  type Shape,
} from './route53-model.js';
import { parseXml, type XmlElement } from './route53-xml.js';

export class Route53Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Input = Record<string, unknown>;

const invalidXml = (what: string) => new Route53Error('InvalidInput', `Invalid XML ; ${what}`);
const expected = (names: string[]) =>
  `One of '{${names.map((n) => `"${NS}":${n}`).join(', ')}}' is expected.`;
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

function constraintOf(struct: string, member: string): Documented & { values?: string[] } {
  const key = `${struct}.${member}`;
  const documented = DOCUMENTED.get(key);
  return { type: member, ...documented, values: MEMBER_ENUMS.get(key) ?? documented?.values };
}

/** Why a scalar breaks its constraint, in Xerces' (Route 53's XML validator's) words, or null. */
function scalarProblem(shape: Shape, c: ReturnType<typeof constraintOf>, v: string): string | null {
  if (shape.isNumericSchema()) {
    if (!/^[+-]?\d+$/.test(v.trim()))
      return `cvc-datatype-valid.1.2.1: '${v}' is not a valid value for 'integer'.`;
    const n = Number(v);
    if (c.max !== undefined && n > c.max)
      return `cvc-maxInclusive-valid: Value '${v}' is not facet-valid with respect to maxInclusive '${c.max}' for type '${c.type}'.`;
    if (c.min !== undefined && n < c.min)
      return `cvc-minInclusive-valid: Value '${v}' is not facet-valid with respect to minInclusive '${c.min}' for type '${c.type}'.`;
    return null;
  }
  if (shape.isBooleanSchema())
    return /^(true|false|1|0)$/.test(v.trim())
      ? null
      : `cvc-datatype-valid.1.2.1: '${v}' is not a valid value for 'boolean'.`;
  if (c.values && !c.values.includes(v))
    return `cvc-enumeration-valid: Value '${v}' is not facet-valid with respect to enumeration '[${c.values.join(', ')}]'. It must be a value from the enumeration.`;
  if (c.maxLength !== undefined && v.length > c.maxLength)
    return `cvc-maxLength-valid: Value '${v}' with length = '${v.length}' is not facet-valid with respect to maxLength '${c.maxLength}' for type '${c.type}'.`;
  if (c.minLength !== undefined && v.length < c.minLength)
    return `cvc-minLength-valid: Value '${v}' with length = '${v.length}' is not facet-valid with respect to minLength '${c.minLength}' for type '${c.type}'.`;
  return null;
}

const scalarValue = (shape: Shape, v: string) =>
  shape.isNumericSchema() ? Number(v) : shape.isBooleanSchema() ? /^(true|1)$/.test(v.trim()) : v;

function readValue(el: XmlElement, shape: Shape, struct: string, member: string): unknown {
  if (shape.isStructSchema()) return readStruct(el, shape);
  if (shape.isListSchema()) {
    const name = listMemberName(shape);
    const item = shape.getValueSchema();
    for (const child of el.children)
      if (child.name !== name)
        throw invalidXml(
          `cvc-complex-type.2.4.a: Invalid content was found starting with element '${child.name}'. ${expected([name])}`,
        );
    const min = DOCUMENTED.get(`${struct}.${member}`)?.minLength ?? 0;
    if (el.children.length < min)
      throw invalidXml(
        `cvc-complex-type.2.4.b: The content of element '${el.name}' is not complete. ${expected([name])}`,
      );
    return el.children.map((child) => readValue(child, item, item.getName() ?? '', name));
  }
  if (el.children.length > 0)
    throw invalidXml(
      `cvc-type.3.1.2: Element '${el.name}' is a simple type, so it must have no element information item [children].`,
    );
  const problem = scalarProblem(shape, constraintOf(struct, member), el.text);
  if (problem) throw invalidXml(problem);
  return scalarValue(shape, el.text);
}

/** The members an XML body carries (not bound to the URI or query), in schema (= XSD sequence) order. */
const bodyMembers = (shape: Shape) =>
  members(shape).filter((m) => {
    const t = m.shape.getMergedTraits();
    return !t.httpLabel && t.httpQuery === undefined && !t.httpHeader;
  });

function readStruct(el: XmlElement, shape: Shape): Input {
  const struct = shape.getName() ?? '';
  const ms = bodyMembers(shape);
  const elementName = (m: (typeof ms)[number]) => m.shape.getMergedTraits().xmlName ?? m.name;
  // What may come next in the sequence: the members up to and including the next required one.
  const nextAllowed = (from: number) => {
    const out: string[] = [];
    for (let k = from; k < ms.length; k++) {
      out.push(elementName(ms[k]));
      if (ms[k].required) break;
    }
    return out;
  };
  const out: Input = {};
  let at = 0;
  for (const child of el.children) {
    const j = ms.findIndex((m, k) => k >= at && elementName(m) === child.name);
    const skipsRequired = j >= 0 && ms.slice(at, j).some((m) => m.required);
    if (j < 0 || skipsRequired)
      throw invalidXml(
        `cvc-complex-type.2.4.a: Invalid content was found starting with element '${child.name}'. ${expected(nextAllowed(at))}`,
      );
    out[ms[j].name] = readValue(child, ms[j].shape, struct, ms[j].name);
    at = j + 1;
  }
  if (ms.slice(at).some((m) => m.required))
    throw invalidXml(
      `cvc-complex-type.2.4.b: The content of element '${el.name}' is not complete. ${expected(nextAllowed(at))}`,
    );
  return out;
}

/** Checks a URI label or query value, in AWS's "1 validation error detected" words. */
function readParam(struct: string, member: { name: string; shape: Shape }, raw: string): unknown {
  const c = constraintOf(struct, member.name);
  const fail = (rule: string) =>
    new Route53Error(
      'InvalidInput',
      `1 validation error detected: Value '${raw}' at '${lowerFirst(member.name)}' failed to satisfy constraint: ${rule}`,
    );
  if (member.shape.isNumericSchema() && !/^\d+$/.test(raw)) throw fail('Member must be a number');
  if (c.values && !c.values.includes(raw))
    throw fail(`Member must satisfy enum value set: [${c.values.join(', ')}]`);
  if (c.maxLength !== undefined && raw.length > c.maxLength)
    throw fail(`Member must have length less than or equal to ${c.maxLength}`);
  if (c.minLength !== undefined && raw.length < c.minLength)
    throw fail(`Member must have length greater than or equal to ${c.minLength}`);
  return scalarValue(member.shape, raw);
}

function route(method: string, path: string): { op: Operation; labels: Record<string, string> } | null {
  for (const op of OPERATIONS) {
    if (op.method !== method) continue;
    const names: string[] = [];
    const pattern = op.uri.replace(/\{(\w+)\+?\}/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    });
    const m = new RegExp(`^${pattern}/?$`).exec(path);
    if (m) return { op, labels: Object.fromEntries(names.map((n, k) => [n, decodeURIComponent(m[k + 1])])) };
  }
  return null;
}

/** The operation a request calls and its input, or a Route53Error as Route 53 would answer it. */
export function parseRequest(method: string, rawUrl: string, body: string): { op: Operation; input: Input } {
  const url = new URL(rawUrl, 'http://route53.local');
  const found = route(method, url.pathname);
  if (!found)
    throw new Route53Error('UnknownOperationException', `No operation for ${method} ${url.pathname}`, 404);
  const { op, labels } = found;
  const struct = op.input.getName() ?? '';
  const input: Input = {};
  for (const m of members(op.input)) {
    const t = m.shape.getMergedTraits();
    if (t.httpLabel) input[m.name] = readParam(struct, m, labels[m.name] ?? '');
    else if (t.httpQuery !== undefined && url.searchParams.has(String(t.httpQuery)))
      input[m.name] = readParam(struct, m, url.searchParams.get(String(t.httpQuery)) ?? '');
  }
  if (bodyMembers(op.input).length === 0) return { op, input };
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (e) {
    throw invalidXml((e as Error).message);
  }
  const rootName = op.input.getMergedTraits().xmlName ?? struct;
  if (root.name !== rootName || root.attributes.xmlns !== NS)
    throw invalidXml(`cvc-elt.1: Cannot find the declaration of element '${root.name}'.`);
  return { op, input: { ...readStruct(root, op.input), ...input } };
}
