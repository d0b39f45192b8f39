// Route 53's answers as XML: success bodies written from the SDK package's
// output schemas (member order, list member names), error bodies in the
// <ErrorResponse> form Route 53 returns, with the status the package's schema
// gives the code (400 for a client error it gives none, as Route 53 does).
import { randomUUID } from 'node:crypto';
import { errorStatus, listMemberName, members, NS, type Operation, type Shape } from './route53-model.js';
import { escapeXml } from './route53-xml.js';

function write(shape: Shape, value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (shape.isStructSchema()) {
    const body = members(shape)
      .map((m) =>
        write(
          m.shape,
          (value as Record<string, unknown>)[m.name],
          m.shape.getMergedTraits().xmlName ?? m.name,
        ),
      )
      .join('');
    return `<${name}>${body}</${name}>`;
  }
  if (shape.isListSchema()) {
    const item = shape.getValueSchema();
    const itemName = listMemberName(shape);
    return `<${name}>${(value as unknown[]).map((v) => write(item, v, itemName)).join('')}</${name}>`;
  }
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** The body of a successful answer to `op`. */
export function responseXml(op: Operation, output: Record<string, unknown>): string {
  const root = `${op.name}Response`;
  const inner = write(op.output, output, root).replace(new RegExp(`^<${root}>`), `<${root} xmlns="${NS}">`);
  return `<?xml version="1.0"?>\n${inner}`;
}

export function errorResponse(code: string, message: string, status?: number) {
  const requestId = randomUUID();
  return {
    status: status ?? errorStatus(code) ?? 400,
    requestId,
    body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}
