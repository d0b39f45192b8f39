import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestKind } from '../../chaos/drills/types.js';
import {
  classifyFailure,
  type FailureKind,
  type Move,
  newTryState,
  nextMove,
  orderCandidates,
  requestKind,
} from './tries.js';

test('classifyFailure: connect, reset, timeout, other', () => {
  const cases = [
    { code: 'ECONNREFUSED', expect: 'connect' },
    { code: 'UND_ERR_CONNECT_TIMEOUT', expect: 'connect' },
    { code: 'ECONNRESET', expect: 'reset' },
    { code: 'UND_ERR_SOCKET', expect: 'reset' },
    { code: 'UND_ERR_HEADERS_TIMEOUT', expect: 'timeout' },
    { code: 'UND_ERR_INVALID_ARG', expect: 'other' },
    { code: undefined, expect: 'other' },
  ];
  for (const c of cases)
    assert.equal(classifyFailure(Object.assign(new Error('x'), { code: c.code })), c.expect);
  assert.equal(classifyFailure(null), 'other');
});

test('requestKind', () => {
  assert.equal(requestKind('GET', undefined), 'idempotent');
  assert.equal(requestKind('delete', undefined), 'idempotent');
  assert.equal(requestKind('POST', 'k1'), 'postWithKey');
  assert.equal(requestKind('POST', undefined), 'post');
  assert.equal(requestKind('POST', ''), 'post');
});

test('orderCandidates: an open connection first, then the answer order', () => {
  assert.deepEqual(
    orderCandidates(['east', 'west'], () => false),
    ['east', 'west'],
  );
  assert.deepEqual(
    orderCandidates(['east', 'west'], (u) => u === 'west'),
    ['west', 'east'],
  );
  assert.deepEqual(
    orderCandidates(['east', 'east', 'west'], () => false),
    ['east', 'west'],
  );
});

/** Plays a request through nextMove: each try fails with the next failure, or succeeds when none is left. */
function play(
  answers: string[][],
  failures: FailureKind[],
  kind: RequestKind,
): { tries: string[]; resolves: number; end: string } {
  const state = newTryState();
  let candidates = answers[0];
  let resolves = 0;
  const tries: string[] = [];
  let last: { url: string; failure: FailureKind } | null = null;
  for (;;) {
    const move: Move = nextMove(candidates, state, last, kind);
    if (move.kind === 'give-up') return { tries, resolves, end: move.reason };
    if (move.kind === 'resolve') {
      state.reResolved = true;
      candidates = answers[++resolves] ?? candidates;
      continue;
    }
    state.tried.add(move.url);
    if (move.retry) state.retried = true;
    tries.push(move.url);
    const failure = failures[tries.length - 1];
    if (failure === undefined) return { tries, resolves, end: 'ok' };
    last = { url: move.url, failure };
  }
}

test('nextMove: address fallback, re-resolving, retry rules', () => {
  const cases: {
    name: string;
    answers: string[][];
    failures: FailureKind[];
    kind: RequestKind;
    expect: { tries: string[]; resolves: number; end: string };
  }[] = [
    {
      name: 'first address answers',
      answers: [['a', 'b']],
      failures: [],
      kind: 'post',
      expect: { tries: ['a'], resolves: 0, end: 'ok' },
    },
    {
      name: 'connect refused: any request moves to the next address',
      answers: [['a', 'b']],
      failures: ['connect'],
      kind: 'post',
      expect: { tries: ['a', 'b'], resolves: 0, end: 'ok' },
    },
    {
      name: 'every address refused: resolve again, try the new one',
      answers: [['a'], ['b']],
      failures: ['connect'],
      kind: 'idempotent',
      expect: { tries: ['a', 'b'], resolves: 1, end: 'ok' },
    },
    {
      name: 'every address refused, the new answer is the same: give up after one resolve',
      answers: [['a'], ['a']],
      failures: ['connect'],
      kind: 'idempotent',
      expect: { tries: ['a'], resolves: 1, end: 'connect failed' },
    },
    {
      name: 'no address at all: resolve once, then give up',
      answers: [[], []],
      failures: [],
      kind: 'idempotent',
      expect: { tries: [], resolves: 1, end: 'no address' },
    },
    {
      name: 'dead connection: an idempotent request is retried once on the next address',
      answers: [['a', 'b']],
      failures: ['reset'],
      kind: 'idempotent',
      expect: { tries: ['a', 'b'], resolves: 0, end: 'ok' },
    },
    {
      name: 'dead connection with one address: retried on a new connection to it',
      answers: [['a']],
      failures: ['reset'],
      kind: 'postWithKey',
      expect: { tries: ['a', 'a'], resolves: 0, end: 'ok' },
    },
    {
      name: 'dead connection twice: no second retry',
      answers: [['a', 'b', 'c']],
      failures: ['reset', 'reset'],
      kind: 'idempotent',
      expect: { tries: ['a', 'b'], resolves: 0, end: 'connection died twice' },
    },
    {
      name: 'retry refused: still moves to the next address',
      answers: [['a', 'b', 'c']],
      failures: ['reset', 'connect'],
      kind: 'postWithKey',
      expect: { tries: ['a', 'b', 'c'], resolves: 0, end: 'ok' },
    },
    {
      name: 'dead connection: a POST without a key is never sent again',
      answers: [['a', 'b']],
      failures: ['reset'],
      kind: 'post',
      expect: { tries: ['a'], resolves: 0, end: 'connection died; not safe to retry' },
    },
    {
      name: 'a timeout is not retried',
      answers: [['a', 'b']],
      failures: ['timeout'],
      kind: 'idempotent',
      expect: { tries: ['a'], resolves: 0, end: 'timeout' },
    },
  ];
  for (const c of cases) assert.deepEqual(play(c.answers, c.failures, c.kind), c.expect, c.name);
});
