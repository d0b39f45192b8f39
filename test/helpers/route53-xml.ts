// A small XML reader for request bodies: it keeps element order and tells
// attributes from elements (the SDK's own parseXML merges both into one
// object and forgets the order, which Route 53's schema validation cares about).

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : ENTITIES[e],
  );
}

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Parses one document; throws an Error whose message says what is malformed. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`);
  };
  const after = (token: string) => {
    const at = xml.indexOf(token, i);
    return at < 0 ? fail(`no ${token}`) : at + token.length;
  };
  const skipSpace = () => {
    while (i < xml.length && /\s/.test(xml[i])) i++;
  };
  const skipProlog = () => {
    for (;;) {
      skipSpace();
      if (xml.startsWith('<?', i)) i = after('?>');
      else if (xml.startsWith('<!--', i)) i = after('-->');
      else return;
    }
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
      xml.slice(i),
    );
    if (!open) return fail('expected an element');
    i += open[0].length;
    const attributes: Record<string, string> = {};
    for (const a of open[2].matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
      attributes[a[1]] = unescapeXml(a[2] ?? a[3]);
    const el: XmlElement = { name: open[1], attributes, children: [], text: '' };
    if (open[3]) return el;
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) fail(`unclosed element ${el.name}`);
      el.text += unescapeXml(xml.slice(i, lt));
      i = lt;
      if (xml.startsWith('</', i)) {
        const close = /^<\/([\w.:-]+)\s*>/.exec(xml.slice(i));
        if (close?.[1] !== el.name) fail(`the end tag does not match <${el.name}>`);
        i += close![0].length;
        return el;
      }
      if (xml.startsWith('<![CDATA[', i)) {
        const start = i + 9;
        i = after(']]>');
        el.text += xml.slice(start, i - 3);
      } else if (xml.startsWith('<!--', i)) i = after('-->');
      else el.children.push(element());
    }
  };
  skipProlog();
  const root = element();
  skipProlog();
  if (i < xml.length) fail('content after the root element');
  return root;
}
