// `meridian dns sync --watch`: the sync loop as a daemon, with an admin port
// (/metrics, /meridian/health, /meridian/ready) as dns, edge and replication have.
import type { MeridianConfig } from '../config/index.js';
import { parseDuration } from '../core/duration.js';
import { startAdmin } from '../dns/admin.js';
import { parseHostPort } from '../dns/sockets.js';
import { MeridianError } from '../errors.js';
import type { SnapshotSource } from '../feed/source.js';
import type { Logger } from '../log.js';
import { syncMetrics } from '../providers/metrics.js';
import type { DnsProvider, Steering } from '../providers/model.js';
import { type SyncResult, watchSync } from '../providers/sync.js';
import { type SyncState, staleAfterMs, syncHealth, syncReadiness } from '../providers/sync-health.js';
import type { SyncFlags } from './dns-sync.js';
import { holdReason } from './dns-sync-run.js';
import { reportError } from './index-helpers.js';

export interface WatchRun {
  flags: SyncFlags;
  config: MeridianConfig;
  provider: DnsProvider;
  source: SnapshotSource;
  steering?: Steering;
  owner: string;
  log: Logger;
  print: (r: SyncResult) => void;
}

function intervalOf(flags: SyncFlags, config: MeridianConfig): number {
  if (flags.interval === undefined) return config.providers.interval;
  const ms = parseDuration(flags.interval);
  if (ms === null || ms < 1000)
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--interval expects a duration of 1s or more, such as 30s or 5m, got "${flags.interval}"`,
    );
  return ms;
}

/** Runs until SIGTERM or SIGINT. */
export async function watchAndServe(o: WatchRun): Promise<void> {
  const { flags, provider, source, log } = o;
  const intervalMs = intervalOf(flags, o.config);
  const adminText = flags.admin ?? o.config.providers.admin;
  const at = parseHostPort(adminText);
  if (!at)
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--admin expects ADDRESS:PORT such as 127.0.0.1:8304, got "${adminText}"`,
    );
  const metrics = syncMetrics(provider.name);
  const state: SyncState = { startedAt: Date.now() };
  const staleAfter = staleAfterMs(intervalMs);
  const admin = await startAdmin(at, {
    metrics: () => metrics.registry.metrics(),
    contentType: metrics.registry.contentType,
    health: () => ({
      part: 'dns-sync',
      provider: provider.name,
      owner: o.owner,
      ...syncHealth(state, Date.now(), staleAfter),
    }),
    ready: () => syncReadiness(state),
    onError: (e) => log.warn({ err: e.message }, 'admin listener error'),
  }).catch((e: Error) => {
    throw new MeridianError('LISTEN_FAILED', `cannot listen on ${adminText}: ${e.message}`);
  });
  log.info(
    { admin: admin.address, intervalMs, owner: o.owner, provider: provider.name },
    'dns sync watching',
  );
  let leftAlone = '';
  const watcher = watchSync({
    provider,
    source,
    steering: o.steering,
    dryRun: !flags.apply,
    owner: o.owner,
    adopt: flags.adopt,
    intervalMs,
    log,
    onResult: (r) => {
      state.lastSuccessAt = Date.now();
      metrics.result(r, state.lastSuccessAt);
      if (r.drift.length > 0)
        log.warn({ drift: r.drift, repaired: r.applied }, 'drift: records changed outside Meridian');
      const names = JSON.stringify(r.leftAlone);
      if (names !== leftAlone && r.leftAlone.length > 0)
        log.warn({ leftAlone: r.leftAlone }, 'names left alone: not owned');
      leftAlone = names;
      o.print(r);
    },
    onError: (e) => {
      state.lastFailureAt = Date.now();
      state.lastError = (e as Error).message;
      metrics.error(e);
      reportError(e, { json: flags.json });
    },
    onRetry: () => metrics.retry(),
    hold: () => holdReason(source, false),
    onHold: (reason) => log.warn({ reason }, 'sync held'),
  });
  // The source's timers are unref()ed; this keeps the command running until a signal.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const stop = async () => {
    state.draining = true;
    clearInterval(keepAlive);
    watcher.close();
    await admin.close();
    await source.close();
    await provider.close();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  await watcher.done;
}
