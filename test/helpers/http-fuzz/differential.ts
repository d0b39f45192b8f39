// The differential check: the fast inbound path (parseSimpleRequest) against
// llhttp on the same bytes. The fast path either serves a request itself,
// waits for more bytes, or hands the connection to Node's server (which then
// decides, so a hand-off cannot disagree). A disagreement is:
// - the fast path serves a request llhttp refuses, or parses differently
//   (method, target, version, headers in order, keep-alive, upgrade);
// - framing: llhttp would see a body, or ends the head at another byte;
// - the fast path waits for more bytes where llhttp already has a whole request,
//   or refuses a head the client has finished with an empty line (the
//   connection would hang until the header timeout instead of a 400: a head
//   with bare LF line ends did).
import { HAND_OFF, INCOMPLETE, parseSimpleRequest } from '../../../src/edge/inbound-fast/request-line.js';
import { fuzzCase, Rng } from './cases.js';
import { llhttpParse } from './llhttp.js';

export const MAX_HEADER_SIZE = 16_384;
const EMPTY_LINE = /\n\r?\n/;

export type Verdict = 'served' | 'handed-off' | 'waiting';

export interface CaseResult {
  verdict: Verdict;
  /** Why the two parsers disagree, or null. */
  disagreement: string | null;
}

export function compareCase(buf: Buffer, maxHeaderSize = MAX_HEADER_SIZE): CaseResult {
  const fast = parseSimpleRequest(buf, maxHeaderSize);
  if (fast === HAND_OFF) return { verdict: 'handed-off', disagreement: null };
  if (fast === INCOMPLETE) {
    const ll = llhttpParse(buf, maxHeaderSize);
    let why: string | null = null;
    if (ll.error === null && ll.messages.length > 0)
      why = 'the fast path waits; llhttp has a whole request head';
    // Waiting on a head llhttp refuses is only a delay while more bytes may come; once the client
    // has sent an empty line it sends no more, and the fast path would wait for ever instead of a 400.
    else if (ll.error !== null && EMPTY_LINE.test(buf.toString('latin1')))
      why = `the fast path waits for ever; llhttp refuses: ${ll.error}`;
    return { verdict: 'waiting', disagreement: why };
  }
  if (typeof fast === 'number') return { verdict: 'handed-off', disagreement: `unknown result ${fast}` };
  const served = (why: string | null): CaseResult => ({ verdict: 'served', disagreement: why });
  // The head exactly as the fast path framed it: llhttp must end one whole request there.
  const ll = llhttpParse(buf.subarray(0, fast.consumed), maxHeaderSize);
  if (ll.error !== null) return served(`llhttp refuses what the fast path serves: ${ll.error}`);
  if (ll.messages.length !== 1) return served(`llhttp sees ${ll.messages.length} requests in the head`);
  const m = ll.messages[0];
  if (!m.complete) return served('llhttp expects a body after the head (framing)');
  if (m.bodyBytes !== 0) return served(`llhttp reads ${m.bodyBytes} body bytes`);
  if (m.upgrade) return served('llhttp sees an upgrade');
  if (m.method !== fast.method) return served(`method: fast ${fast.method}, llhttp ${m.method}`);
  if (m.url !== fast.url)
    return served(`target: fast ${JSON.stringify(fast.url)}, llhttp ${JSON.stringify(m.url)}`);
  if (m.version !== '1.1') return served(`version: llhttp ${m.version}`);
  if (m.keepAlive === fast.close) return served(`keep-alive: fast ${!fast.close}, llhttp ${m.keepAlive}`);
  const a = JSON.stringify(fast.rawHeaders);
  const b = JSON.stringify(m.rawHeaders);
  if (a !== b) return served(`headers: fast ${a.slice(0, 200)}, llhttp ${b.slice(0, 200)}`);
  // One byte less must not be a whole request for llhttp: the head ends where the fast path says.
  const shorter = llhttpParse(buf.subarray(0, fast.consumed - 1), maxHeaderSize);
  if (shorter.messages.some((x) => x.complete)) return served('llhttp ends the head earlier');
  return served(null);
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  served: number;
  handedOff: number;
  waiting: number;
  disagreements: number;
  /** The first few disagreements, with the case bytes (latin1, JSON-escaped). */
  examples: { index: number; input: string; why: string }[];
  ms: number;
}

/** Runs `cases` generated cases from `seed`; never throws on a disagreement, it counts them. */
export function runDifferential(
  cases: number,
  seed: number,
  onCase?: (buf: Buffer, r: CaseResult) => void,
): FuzzSummary {
  const rng = new Rng(seed);
  const s: FuzzSummary = {
    seed,
    cases,
    served: 0,
    handedOff: 0,
    waiting: 0,
    disagreements: 0,
    examples: [],
    ms: 0,
  };
  const started = performance.now();
  for (let i = 0; i < cases; i++) {
    const buf = fuzzCase(rng);
    const r = compareCase(buf);
    if (r.verdict === 'served') s.served++;
    else if (r.verdict === 'handed-off') s.handedOff++;
    else s.waiting++;
    if (r.disagreement !== null) {
      s.disagreements++;
      if (s.examples.length < 10)
        s.examples.push({ index: i, input: buf.toString('latin1'), why: r.disagreement });
    }
    onCase?.(buf, r);
  }
  s.ms = Math.round(performance.now() - started);
  return s;
}
