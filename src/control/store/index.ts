import type { ControlConfig } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { EtcdStore } from './etcd.js';
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

/** The store the config names; `stateFile` (--state) overrides the SQLite file. */
export function openStore(config: ControlConfig, stateFile?: string, log?: Logger): StateStore {
  const s = config.store;
  if (s.type === 'etcd') return new EtcdStore(s.endpoints, s.prefix);
  return new SqliteStore(stateFile ?? s.file, log);
}
