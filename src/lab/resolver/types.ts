export interface Nameserver {
  name: string;
  address: string;
  port: number;
}

export interface ResolverOptions {
  /** The zone the name servers are authoritative for (a stub zone for Unbound). */
  zone: string;
  nameservers: readonly Nameserver[];
  /** Working directory (unbound.conf, pid file). */
  dir: string;
  logDir: string;
  /** Unbound when installed (the default), or the built-in resolver. */
  prefer?: 'unbound' | 'builtin';
}

export interface RunningResolver {
  kind: 'unbound' | 'builtin';
  /** `unbound 1.17.1` or `built-in`, for the lab's notes and report. */
  description: string;
  address: string;
  port: number;
  /** Unbound's process id; absent for the built-in resolver (it runs in the lab's process). */
  pid?: number;
  stop(): Promise<void>;
}
