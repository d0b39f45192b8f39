import type { ControlConfig } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { EtcdStore } from './etcd.js';
import { etcdConnectionFromConfig } from './etcd-client.js';
import { SqliteStore } from './sqlite.js';
import type { StateStore } from './store.js';

export type {
  AuditEntry,
  ControlState,
  FailedOver,
  Leadership,
  OperationRecord,
  OutlierState,
  StateStore,
} from './store.js';
export { EtcdStore, SqliteStore };

/**
 * The store the config names; `stateFile` (--state) overrides the SQLite file.
 * etcd's password is read from `env` or its file here, once.
 */
export function openStore(
  config: ControlConfig,
  stateFile?: string,
  options: { env?: NodeJS.ProcessEnv; log?: Logger; warn?: (message: string) => void } = {},
): StateStore {
  const s = config.store;
  const { log } = options;
  if (s.type === 'etcd') {
    const warn = options.warn ?? (log ? (message: string) => log.warn(message) : undefined);
    return new EtcdStore({ ...etcdConnectionFromConfig(s, options.env, warn), warn }, s.prefix);
  }
  return new SqliteStore(stateFile ?? s.file, log);
}
