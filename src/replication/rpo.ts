// The RPO check is pure and lives in core, where control's pre-check uses it;
// re-exported here for the replication package's users.
export { checkRpo, type RpoCheck } from '../core/rpo.js';
