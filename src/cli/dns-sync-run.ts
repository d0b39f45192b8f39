// The work of `meridian dns sync`, loaded only when it runs (src/cli/dns-sync.ts declares its options).
import { loadConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import { ControlSnapshotSource } from '../feed/control-source.js';
import { FileSnapshotSource } from '../feed/file-source.js';
import type { SnapshotSource } from '../feed/source.js';
import { createLogger, type Logger } from '../log.js';
import { createProvider, PROVIDERS } from '../providers/registry.js';
import { type SyncResult, syncOnce } from '../providers/sync.js';
import { API_KEY, type SyncFlags, TSIG_SECRET } from './dns-sync.js';
import { printJson, surviveRejections } from './index-helpers.js';
import { controlToken, resolveSecret, secretSources } from './secret.js';

export function formatSync(r: SyncResult): string {
  const head = `${r.provider} zone ${r.zone}, ${r.steering} steering, snapshot v${r.snapshotVersion}: ${r.changes.length} to change, ${r.unchanged} unchanged`;
  const tail =
    r.changes.length === 0
      ? 'in sync.'
      : r.dryRun
        ? 'preview: nothing applied (run again with --apply to apply).'
        : 'applied.';
  return [
    head,
    ...r.diff,
    ...r.drift.map(
      (key) => `drift: ${key.replace(/\|+$/, '').replaceAll('|', ' ')} was changed outside Meridian`,
    ),
    ...r.leftAlone.map((l) => `left alone: ${l.name}: ${l.reason}`),
    ...r.warnings.map((w) => `warning: ${w}`),
    tail,
  ].join('\n');
}

/** Why the snapshot must not be pushed yet: never pushing the config file's state over an evacuation in control. */
export function holdReason(source: SnapshotSource, once: boolean): string | null {
  if (!(source instanceof ControlSnapshotSource)) return null;
  const { from, version } = source.status();
  if (from === 'control') return null;
  if (from === 'disk' && !once) return null; // fail static, as dns and edge do
  return from === 'disk'
    ? `control is unreachable; the last snapshot on disk (v${version}) may be stale, so a one-off sync pushes nothing`
    : "control is unreachable and no snapshot is on disk; not pushing the config file's state";
}

function sourceFor(flags: SyncFlags, log: Logger): SnapshotSource {
  const control = flags.control ?? process.env.MERIDIAN_CONTROL;
  if (!control) return new FileSnapshotSource(flags.config, { log });
  const token = resolveSecret(controlToken(), { ...flags });
  if (!token)
    throw new MeridianError('BAD_ARGUMENT', `--control needs a token: ${secretSources(controlToken())}`);
  return new ControlSnapshotSource({
    controlUrl: control,
    token,
    configFile: flags.config,
    stateDir: flags.stateDir,
    log,
    // A one-off sync is not a server that must start quickly: give control time to answer.
    startTimeoutMs: flags.watch ? 2000 : 5000,
  });
}

/** The exit code: 0 done; with --detailed-exitcode, 2 when the provider's records differ (or differed before --apply). */
export async function runSync(flags: SyncFlags): Promise<number> {
  const name = flags.provider;
  if (!name) {
    throw new MeridianError('BAD_ARGUMENT', '--provider is required', [
      `one of: ${PROVIDERS.map((p) => p.name).join(', ')} (env MERIDIAN_DNS_PROVIDER)`,
    ]);
  }
  const config = loadConfig(flags.config);
  const secrets = { ...flags };
  flags.apiKey = resolveSecret(API_KEY, secrets);
  flags.tsigSecret = resolveSecret(TSIG_SECRET, secrets);
  const { provider, steering: configured } = await createProvider(name, flags, config.providers, [
    config.zone.name,
  ]);
  const steering = flags.steering ?? configured;
  const owner = flags.ownerId ?? config.providers.ownerId;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(owner))
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--owner-id expects letters, digits, "_", "." or "-", got "${owner}"`,
    );
  if (!flags.watch && (flags.admin || flags.interval))
    throw new MeridianError('BAD_ARGUMENT', '--admin and --interval go with --watch');
  const log = createLogger('dns-sync');
  if (flags.watch) surviveRejections(log);
  const source = sourceFor(flags, log);
  await source.start();
  const print = (r: SyncResult) => {
    if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${formatSync(r)}\n`);
  };
  if (!flags.watch) {
    try {
      const held = holdReason(source, true);
      if (held) throw new MeridianError('CONTROL_UNREACHABLE', held);
      const result = await syncOnce({
        provider,
        config: source.config(),
        snapshot: source.current(),
        steering,
        dryRun: !flags.apply,
        owner,
        adopt: flags.adopt,
      });
      if (flags.json) printJson(result);
      else print(result);
      return flags.detailedExitcode && result.changes.length > 0 ? EXIT_CHANGES : 0;
    } finally {
      await source.close();
      await provider.close();
    }
  }
  const { watchAndServe } = await import('./dns-sync-watch.js');
  await watchAndServe({ flags, config, provider, source, steering, owner, log, print });
  return 0;
}

const EXIT_CHANGES = 2;
