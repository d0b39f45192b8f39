// Node's own HTTP/1 parser (llhttp, the binding node:http's server uses) run
// in process, configured as the edge's server configures it: a request
// parser, strict (no lenient flags), the edge's maxHeaderSize. `_http_common`
// is an undocumented module of Node's; the fuzz test cross-checks this oracle
// against a real node:http server over loopback so a change in Node shows up
// as a failing test, not as a silently wrong oracle.
import { createRequire } from 'node:module';

interface HTTPParserInstance {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(buf: Buffer): number | (Error & { code?: string });
  finish(): number | Error;
  [key: number]: unknown;
}
interface HTTPParserClass {
  new (): HTTPParserInstance;
  REQUEST: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: HTTPParserClass;
  methods: string[];
};
const { HTTPParser, methods } = common;

/** One request as llhttp parsed it. */
export interface LlMessage {
  method: string;
  url: string;
  version: string;
  rawHeaders: string[];
  keepAlive: boolean;
  upgrade: boolean;
  bodyBytes: number;
  complete: boolean;
}

export interface LlResult {
  /** llhttp's error code (HPE_*), or null. */
  error: string | null;
  /** Messages whose head was parsed, in order (the last may be incomplete). */
  messages: LlMessage[];
}

const parser = new HTTPParser();
let messages: LlMessage[] = [];
let pendingHeaders: string[] = [];
let pendingUrl = '';

parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
  pendingHeaders.push(...headers);
  pendingUrl += url;
};
parser[HTTPParser.kOnHeadersComplete] = (
  major: number,
  minor: number,
  headers: string[] | null,
  method: number,
  url: string | null,
  _status: number,
  _text: string,
  upgrade: boolean,
  keepAlive: boolean,
) => {
  messages.push({
    method: methods[method],
    url: url ?? pendingUrl,
    version: `${major}.${minor}`,
    rawHeaders: headers ?? pendingHeaders,
    keepAlive,
    upgrade,
    bodyBytes: 0,
    complete: false,
  });
  pendingHeaders = [];
  pendingUrl = '';
  return 0;
};
parser[HTTPParser.kOnBody] = (b: Buffer) => {
  messages[messages.length - 1].bodyBytes += b.length;
};
parser[HTTPParser.kOnMessageComplete] = () => {
  messages[messages.length - 1].complete = true;
};

/** Parses `buf` as one stream of request bytes, as Node's server would receive it. */
export function llhttpParse(buf: Buffer, maxHeaderSize: number): LlResult {
  messages = [];
  pendingHeaders = [];
  pendingUrl = '';
  parser.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, 0);
  const r = parser.execute(buf);
  const error = typeof r === 'number' ? null : (r.code ?? 'ERROR');
  return { error, messages };
}
