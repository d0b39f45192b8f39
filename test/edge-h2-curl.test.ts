// Issue 17's done-when check with the real curl binary: `curl --http2 -k
// https://…` (h2 by ALPN) and `curl --http2-prior-knowledge http://…` (h2c)
// through an edge get x-meridian-region and the origin's body; plain curl
// (HTTP/1.1) on the same ports still works.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { appendYaml, closeServer, echo, startEdge, startOrigin, type TestEdge } from './edge-fixtures.js';
import { configWithFreePorts } from './helpers/ports.js';
import { findProgram } from './helpers/programs.js';
import { selfSignedCert } from './helpers/raw-http.js';

const servers: Server[] = [];
const edges: TestEdge[] = [];
after(async () => {
  for (const e of edges) await e.close();
  for (const s of servers) await closeServer(s);
});

/** curl's path when it speaks HTTP/2; else null with the reason printed (an error under CI=true). */
function curlWithHttp2(): string | null {
  const curl = findProgram('curl');
  const features = curl ? spawnSync(curl, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (curl && /^Features:.*\bHTTP2\b/m.test(features)) return curl;
  const reason = curl ? 'curl lacks HTTP/2 (no HTTP2 in its Features)' : 'curl is not installed';
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stdout.write(`# skipping: ${reason}\n`);
  return null;
}

/** Runs curl asynchronously (the edge runs in this process), -i: head and body. */
function curl(bin: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['-sS', '-i', '--max-time', '10', ...args]);
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    p.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

function check(r: { code: number; out: string; err: string }, version: string, path: string) {
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^HTTP/${version.replace('.', '\\.')} 200`), r.out);
  assert.match(r.out, /^x-meridian-region: us-east-1\r?$/im);
  const body = JSON.parse(r.out.slice(r.out.indexOf('\r\n\r\n') + 4));
  assert.equal(body.url, path);
  assert.equal(body.headers.host, 'api.example.com');
}

test('curl --http2-prior-knowledge http://… through the edge; HTTP/1.1 curl on the same port', async (t) => {
  const bin = curlWithHttp2();
  if (!bin) return t.skip('curl without HTTP/2');
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const edge = await startEdge(cfg.file, 'us-east-1');
  edges.push(edge);
  const host = ['-H', 'Host: api.example.com'];
  check(await curl(bin, ['--http2-prior-knowledge', ...host, `${edge.url}/h2c`]), '2', '/h2c');
  check(await curl(bin, ['--http1.1', ...host, `${edge.url}/h1`]), '1.1', '/h1');
});

test('curl --http2 -k https://… through the edge (ALPN h2); HTTP/1.1 curl on the same port', async (t) => {
  const bin = curlWithHttp2();
  if (!bin) return t.skip('curl without HTTP/2');
  const cert = selfSignedCert(mkdtempSync(join(tmpdir(), 'meridian-curl-')));
  if (!cert) return t.skip('no openssl');
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  appendYaml(cfg.file, `edge:\n  tls: { cert: ${cert.cert}, key: ${cert.key} }`);
  for (const p of [9101, 9102]) servers.push(await startOrigin(cfg.port(p), echo));
  const edge = await startEdge(cfg.file, 'us-east-1');
  edges.push(edge);
  const url = edge.url.replace('http://', 'https://');
  const host = ['-H', 'Host: api.example.com'];
  check(await curl(bin, ['--http2', '-k', ...host, `${url}/h2`]), '2', '/h2');
  check(await curl(bin, ['--http1.1', '-k', ...host, `${url}/h1`]), '1.1', '/h1');
});
