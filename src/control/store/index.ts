import type { ControlConfig } from '../../config/index.js';
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
  options: { env?: NodeJS.ProcessEnv; warn?: (message: string) => void } = {},
): StateStore {
  const s = config.store;
  if (s.type === 'etcd')
    return new EtcdStore({ ...etcdConnectionFromConfig(s, options.env), warn: options.warn }, s.prefix);
  return new SqliteStore(stateFile ?? s.file);
}
