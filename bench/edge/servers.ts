// The three proxies under test and the one origin they share, each started
// with its own temp config on free loopback ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface Running {
  name: string;
  port: number;
  proc: ChildProcess;
  /** Meridian's ready line. */
  ready?: Record<string, unknown>;
}

export async function waitHttp(port: number, host = 'api.example.com', timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await request(`http://127.0.0.1:${port}/`, { headers: { host } });
      await r.body.dump();
      if (r.statusCode === 200) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`nothing answered 200 on port ${port} within ${timeoutMs} ms`);
}

export function startNginxOrigin(dir: string, port: number): Running {
  const conf = join(dir, 'origin-nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/origin.pid;
error_log ${dir}/origin-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/ob; proxy_temp_path ${dir}/op; fastcgi_temp_path ${dir}/of; uwsgi_temp_path ${dir}/ou; scgi_temp_path ${dir}/os;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello from the origin\\n"; }
  }
}
`,
  );
  return { name: 'origin', port, proc: spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' }) };
}

export function startNginxProxy(dir: string, port: number, origin: number, wsOrigin: number): Running {
  const conf = join(dir, 'proxy-nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 2;
daemon off;
pid ${dir}/proxy.pid;
error_log ${dir}/proxy-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/pb; proxy_temp_path ${dir}/pp; fastcgi_temp_path ${dir}/pf; uwsgi_temp_path ${dir}/pu; scgi_temp_path ${dir}/ps;
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:${origin}; keepalive 64; }
  upstream wsorigin { server 127.0.0.1:${wsOrigin}; }
  server {
    listen 127.0.0.1:${port};
    location /ws {
      proxy_pass http://wsorigin;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
    }
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
  return { name: 'nginx', port, proc: spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' }) };
}

export function startHaproxy(dir: string, port: number, origin: number, wsOrigin: number): Running {
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  nbthread 2
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  use_backend ws if { path_beg /ws }
  default_backend be
backend be
  server o1 127.0.0.1:${origin}
backend ws
  server w1 127.0.0.1:${wsOrigin}
`,
  );
  return { name: 'haproxy', port, proc: spawn('haproxy', ['-f', conf, '-db'], { stdio: 'ignore' }) };
}

/** Meridian's edge from `bin` (the packed and installed CLI), `workers` processes, access log off (as for the peers). */
export async function startMeridian(
  bin: string,
  dir: string,
  port: number,
  origin: number,
  workers: number,
  wsOrigin: number,
): Promise<Running> {
  const conf = join(dir, 'meridian.yaml');
  writeFileSync(
    conf,
    `zone: { name: example.com }
regions:
  - id: bench
    location: { lat: 38.9, lon: -77.4 }
    capacity: 100000
    addresses: { ipv4: [192.0.2.10] }
    edge: http://127.0.0.1:${port}
services:
  - name: api
    hostname: api.example.com
    origins: [{ region: bench, urls: [http://127.0.0.1:${origin}] }]
    healthCheck: { path: /, interval: 1s }
  - name: ws
    hostname: ws.example.com
    origins: [{ region: bench, urls: [http://127.0.0.1:${wsOrigin}] }]
    healthCheck: { path: /, interval: 1s }
trust: { proxies: [127.0.0.1/32] }
edge:
  admin: 127.0.0.1:0
  workers: ${workers}
  accessLog: false
  shedding: { adaptive: off, maxInFlight: 100000 }
`,
  );
  const proc = spawn(process.execPath, [bin, 'edge', '--config', conf, '--region', 'bench'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: proc.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('meridian edge did not print its ready line')), 60_000);
    lines.on('line', (l) => {
      if (l.includes('"ready":true')) {
        clearTimeout(timer);
        resolve(JSON.parse(l));
      }
    });
    proc.once('exit', (code) => reject(new Error(`meridian edge exited with ${code}`)));
  });
  try {
    return { name: 'meridian', port, proc, ready: await ready };
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

export async function stop(r: Running): Promise<void> {
  if (r.proc.exitCode !== null) return;
  const exited = new Promise((res) => r.proc.once('exit', res));
  r.proc.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
}
