// The WebSocket echo run of `npm run bench -- edge`: a Node echo origin in
// its own process, and load from two processes of `ws-load.ts` (each
// connection sends 64 bytes and waits for the echo) through each proxy.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Running } from './servers.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const LOAD_PROCESSES = 2;

export async function startWsOrigin(port: number): Promise<Running> {
  const proc = spawn(process.execPath, ['--import', 'tsx', here('ws-origin.ts'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`ws origin exited with ${code}`)));
  });
  return { name: 'ws-origin', port, proc };
}

function loadProcess(
  port: number,
  connections: number,
  seconds: number,
): Promise<{ messages: number; latenciesMs: number[] }> {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', here('ws-load.ts'), String(port), String(connections), String(seconds)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c) => {
    out += c;
  });
  proc.stderr!.on('data', (c) => {
    err += c;
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      if (code !== 0) reject(new Error(`ws load exited with ${code}: ${err.slice(0, 500)}`));
      else resolve(JSON.parse(out));
    });
  });
}

export interface WsRun {
  messagesPerS: number;
  p99Ms: number;
}

/** `connections` echo loops (split over two processes) through `port` for `seconds`. */
export async function wsLoad(port: number, connections: number, seconds: number): Promise<WsRun> {
  const each = Math.max(1, Math.round(connections / LOAD_PROCESSES));
  const runs = await Promise.all(
    Array.from({ length: LOAD_PROCESSES }, () => loadProcess(port, each, seconds)),
  );
  const messages = runs.reduce((a, r) => a + r.messages, 0);
  const latencies = runs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? Number.NaN;
  return { messagesPerS: Math.round(messages / seconds), p99Ms: Math.round(p99 * 1000) / 1000 };
}
