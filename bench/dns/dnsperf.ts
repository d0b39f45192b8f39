// Runs dnsperf once against a loopback port and reads its queries per second.
import { spawn } from 'node:child_process';

export interface DnsperfOptions {
  port: number;
  queryFile: string;
  seconds: number;
  /** EDNS option as dnsperf's -E takes it, e.g. "8:00011800ab4000" (client subnet 171.64.0.0/24). */
  ednsOption?: string;
}

export function runDnsperf(o: DnsperfOptions): Promise<{ qps: number; lostPercent: number }> {
  const args = ['-s', '127.0.0.1', '-p', String(o.port), '-d', o.queryFile, '-l', String(o.seconds)];
  args.push('-c', '4', '-q', '200');
  if (o.ednsOption) args.push('-E', o.ednsOption);
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    child.on('error', reject);
    child.on('exit', () => {
      const qps = /Queries per second:\s+([\d.]+)/.exec(out);
      const lost = /Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out);
      if (!qps) return reject(new Error(`dnsperf gave no result:\n${out}`));
      resolve({ qps: Number(qps[1]), lostPercent: lost ? Number(lost[1]) : 0 });
    });
  });
}
