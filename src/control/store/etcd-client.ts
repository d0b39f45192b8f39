import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { ControlConfig } from '../../config/index.js';
import { readSecretEnv, readSecretFile, type Warn } from '../../config/secret.js';
import { MeridianError } from '../../errors.js';

/** How to reach etcd: members, TLS material (PEM) and an etcd user. */
export interface EtcdConnection {
  endpoints: string[];
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { user: string; password: string };
  /** Called once when etcd turns out to have authentication disabled. */
  warn?: (message: string) => void;
}

type EtcdStoreConfig = Extract<ControlConfig['store'], { type: 'etcd' }>;

// gRPC status codes etcd's gateway puts in an error body (`code`); stable, unlike the messages.
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNAUTHENTICATED = 16;

/** Reads the files and the password the config names; errors name the config path. */
export function etcdConnectionFromConfig(
  store: EtcdStoreConfig,
  env: NodeJS.ProcessEnv = process.env,
  warn?: Warn,
): EtcdConnection {
  const read = (path: string, where: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `control.store.${where}: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
  };
  const t = store.tls;
  const tls = t && {
    ca: t.ca === undefined ? undefined : read(t.ca, 'tls.ca'),
    cert: t.cert === undefined ? undefined : read(t.cert, 'tls.cert'),
    key: t.key === undefined ? undefined : read(t.key, 'tls.key'),
  };
  const a = store.auth;
  const password =
    a?.passwordEnv !== undefined
      ? readSecretEnv(a.passwordEnv, 'control.store.auth.passwordEnv', env)
      : a?.passwordFile !== undefined
        ? readSecretFile(a.passwordFile, 'control.store.auth.passwordFile', { warn })
        : undefined;
  const auth = a && password !== undefined ? { user: a.user, password } : undefined;
  return { endpoints: store.endpoints, tls, auth };
}

interface EtcdErrorBody {
  code?: number;
  message?: string;
  error?: string;
}

/**
 * POSTs to etcd's v3 HTTP/JSON gateway: over TLS with a client certificate when
 * configured, and with an etcd auth token when a user is configured. The token
 * is fetched on first use and again when etcd no longer knows it (it expires
 * after etcd's --auth-token-ttl without use, per member).
 */
export class EtcdClient {
  private current = 0;
  private token: Promise<string | null> | null = null;
  private readonly dispatcher: Agent;

  constructor(private readonly connection: EtcdConnection) {
    const tls = connection.tls ?? {};
    if (connection.auth && connection.endpoints.some((e) => e.startsWith('http:')))
      connection.warn?.(
        'control.store.auth over http:// endpoints sends the etcd password unencrypted: use https and tls',
      );
    this.dispatcher = new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key } });
  }

  /** POSTs to one member; a member that does not answer is skipped for the next. */
  async call<T>(path: string, body: unknown): Promise<T> {
    const auth = this.connection.auth;
    const token = auth ? await this.authToken() : null;
    try {
      return await this.post<T>(path, body, token);
    } catch (e) {
      // The token expired or this member never saw it, or etcd had auth disabled when we last
      // asked and now refuses anonymous calls: authenticate again, once.
      const code = e instanceof EtcdRefusal ? e.body.code : undefined;
      const renew =
        code === GRPC_UNAUTHENTICATED ||
        (token === null && (code === GRPC_INVALID_ARGUMENT || code === GRPC_PERMISSION_DENIED));
      if (!auth || !renew) throw this.explain(e);
      const held = this.token;
      if (held && (await held.catch(() => null)) === token && this.token === held) this.token = null;
      return await this.post<T>(path, body, await this.authToken()).catch((again) => {
        throw this.explain(again);
      });
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private authToken(): Promise<string | null> {
    this.token ??= this.authenticate().catch((e) => {
      this.token = null;
      throw e;
    });
    return this.token;
  }

  private async authenticate(): Promise<string | null> {
    const { user, password } = this.connection.auth!;
    try {
      const r = await this.post<{ token?: string }>('/v3/auth/authenticate', { name: user, password }, null);
      return r.token ?? null;
    } catch (e) {
      if (!(e instanceof EtcdRefusal)) throw e;
      if (e.body.code === GRPC_FAILED_PRECONDITION) {
        this.connection.warn?.(
          'etcd has authentication disabled (control.store.auth is ignored): anyone who reaches etcd can change control state',
        );
        return null;
      }
      throw new MeridianError('STORE_AUTH', `etcd refused user "${user}" (control.store.auth): ${e.reason}`, [
        'check the user name and the password in control.store.auth.passwordEnv or passwordFile',
      ]);
    }
  }

  private async post<T>(path: string, body: unknown, token: string | null): Promise<T> {
    const { endpoints } = this.connection;
    let last: unknown;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[(this.current + i) % endpoints.length];
      let status: number;
      let text: string;
      try {
        const res = await request(new URL(path, endpoint), {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
          headersTimeout: 2000,
          bodyTimeout: 2000,
          dispatcher: this.dispatcher,
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (e) {
        last = transportError(endpoint, e, this.connection.tls?.cert !== undefined);
        continue;
      }
      // No leader, a member starting, overload: another member may answer.
      if (status >= 500 || status === 404 || status === 429) {
        last = new Error(`${endpoint} HTTP ${status}: ${text.slice(0, 200)}`);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text || '{}');
      } catch {
        last = new Error(`${endpoint} HTTP ${status}: not JSON: ${text.slice(0, 200)}`);
        continue;
      }
      if (status >= 300) throw new EtcdRefusal(path, status, json as EtcdErrorBody, text);
      this.current = (this.current + i) % endpoints.length;
      return json as T;
    }
    throw new MeridianError('CONTROL_UNREACHABLE', `no etcd member answered: ${(last as Error)?.message}`);
  }

  /** An answer from etcd that no other member would change, as a MeridianError. */
  private explain(e: unknown): unknown {
    if (!(e instanceof EtcdRefusal)) return e;
    const user = this.connection.auth?.user;
    const anonymous =
      e.body.code === GRPC_UNAUTHENTICATED ||
      (!user && (e.body.code === GRPC_PERMISSION_DENIED || e.body.code === GRPC_INVALID_ARGUMENT));
    if (!user && anonymous)
      return new MeridianError(
        'STORE_AUTH',
        `etcd requires authentication (${e.reason}): set control.store.auth`,
      );
    if (e.body.code === GRPC_PERMISSION_DENIED)
      return new MeridianError(
        'STORE_AUTH',
        `etcd denied ${e.path} to user "${user}": grant its role readwrite on control.store.prefix`,
      );
    if (anonymous) return new MeridianError('STORE_AUTH', `etcd did not accept user "${user}": ${e.reason}`);
    return new MeridianError('INTERNAL', `etcd ${e.path}: HTTP ${e.status}: ${e.reason}`);
  }
}

class EtcdRefusal extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: EtcdErrorBody,
    text: string,
  ) {
    super(`etcd ${path}: ${body.message ?? text}`);
  }

  get reason() {
    return this.body.message ?? this.body.error ?? `HTTP ${this.status}`;
  }
}

/** A connection-level failure with the endpoint and, for TLS, what went wrong. */
function transportError(endpoint: string, e: unknown, hasClientCert: boolean): Error {
  const err = e as Error & { code?: string; cause?: Error & { code?: string } };
  const inner = err.cause ?? err;
  const code = inner.code ?? err.code;
  // etcd with --client-cert-auth closes a TLS 1.3 connection without a certificate only after the handshake.
  const hint =
    endpoint.startsWith('https:') && !hasClientCert && code === 'UND_ERR_SOCKET'
      ? '; if etcd requires client certificates, set control.store.tls.cert and key'
      : '';
  const shownCode = code && !inner.message.includes(code) ? ` (${code})` : '';
  return new Error(`${endpoint}: ${inner.message}${shownCode}${hint}`);
}
