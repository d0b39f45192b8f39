import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { loggerOptions, redactUrl, repeatedFailure } from './log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino(loggerOptions('test', 'debug'), stream), text: () => lines.join('') };
}

test('redactUrl removes the credentials of every URL and nothing else', () => {
  const table = [
    ['redis://:hunter2@10.0.0.1:6379/0', 'redis://***@10.0.0.1:6379/0'],
    ['nats://s3cr3t-token@nats:4222', 'nats://***@nats:4222'],
    ['https://user:pw@api.example/x?y=1 and http://a:b@c', 'https://***@api.example/x?y=1 and http://***@c'],
    ['rediss://default:p%40ss@h:6380', 'rediss://***@h:6380'],
    ['http://127.0.0.1:8300/v1/status', 'http://127.0.0.1:8300/v1/status'],
    ['mail ops@example.com; http://host/path@x', 'mail ops@example.com; http://host/path@x'],
  ];
  for (const [input, expect] of table) assert.equal(redactUrl(input), expect, input);
});

test('logs: secret fields redacted, URL credentials removed from fields, messages and errors', () => {
  const { log, text } = capture();
  log.info({ token: 'tok-1', config: { password: 'pw-2', apiKey: 'key-3', tsigSecret: 'tsig-4' } }, 'a');
  log.warn({ req: { headers: { authorization: 'Bearer tok-5', 'x-api-key': 'key-6' } } }, 'b');
  log.info({ headers: { authorization: 'Bearer tok-7' } }, 'c');
  log.error({ url: 'redis://:pw-8@h:6379', servers: ['nats://tok-9@n:4222'] }, 'cannot reach');
  log.error({ err: new Error('connect to redis://:pw-10@h failed') }, 'failed');
  log.warn('cannot connect to NATS at nats://u:pw-11@n:4222');
  const out = text();
  for (let i = 1; i <= 11; i++)
    assert.doesNotMatch(out, new RegExp(`-${i}\\b`), `secret ${i} logged:\n${out}`);
  assert.match(out, /"token":"\[Redacted\]"/);
  assert.match(out, /"url":"redis:\/\/\*\*\*@h:6379"/);
  assert.match(out, /cannot connect to NATS at nats:\/\/\*\*\*@n:4222/);
  assert.match(out, /"err":\{"type":"Error","message":"connect to redis:\/\/\*\*\*@h failed"/);
});

test('repeatedFailure logs a failure once per distinct error, and its end once', () => {
  const { log, text } = capture();
  const ticks = repeatedFailure(log, { failed: 'tick failed', recovered: 'ticks work again' }, { part: 'x' });
  for (let i = 0; i < 100; i++) ticks.failed(new Error('store locked'));
  ticks.failed(new Error('bad row'));
  for (let i = 0; i < 10; i++) ticks.ok();
  const lines = text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.msg, l.err]),
    [
      ['tick failed', 'store locked'],
      ['tick failed', 'bad row'],
      ['ticks work again', undefined],
    ],
  );
  assert.equal(lines[0].part, 'x');
});
