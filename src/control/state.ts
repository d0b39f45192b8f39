import type { MeridianConfig } from '../config/index.js';
import { snapshotFromConfig } from '../config/snapshot.js';
import type { Health, Snapshot } from '../core/model.js';
import { withPhase } from '../core/operations/index.js';
import { NO_EVIDENCE } from '../core/region-health.js';
import { MeridianError } from '../errors.js';
import { snapshotFromJson, snapshotToJson } from '../feed/codec.js';
import type { Logger } from '../log.js';
import type { AuditEntry, ControlState, StateStore } from './store/index.js';

export type Draft = ControlState;

/**
 * Control has no evidence of a region it just learnt of: UNKNOWN, unless the config states
 * DOWN or DEGRADED (`regions[].health` is for servers without a control plane; HEALTHY there is
 * only the default).
 */
function unknownUnlessConfigured(config: MeridianConfig): Map<string, Health> {
  return new Map(config.regions.map((r) => [r.id, r.health === 'HEALTHY' ? 'UNKNOWN' : r.health]));
}

/**
 * The one current state, the only way to change it, and who hears of changes.
 * Every change is a compare-and-set commit of a new version (with its audit
 * entries); a lost race reloads and applies the change again.
 */
export class StateKeeper {
  private state!: ControlState;
  private snap!: Snapshot;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(s: ControlState, snap: Snapshot) => void>();
  private unwatch: (() => void) | undefined;

  constructor(
    readonly store: StateStore,
    private readonly config: MeridianConfig,
    private readonly log: Logger,
  ) {}

  /** Loads the stored state, or makes the first one from config, and follows other writers. */
  async open(): Promise<void> {
    const stored = await this.store.load();
    if (stored) this.accept(stored);
    else {
      const first = this.initial();
      if (!(await this.store.commit(0, first, []))) this.accept((await this.store.load())!);
      else this.accept(first);
    }
    this.unwatch = this.store.watch((s) => {
      if (s.version > this.state.version) this.accept(s);
    });
  }

  close() {
    this.unwatch?.();
    this.listeners.clear();
  }

  current(): ControlState {
    return this.state;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  onChange(listener: (s: ControlState, snap: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies `mutate` to a copy of the state and commits it as the next version.
   * `mutate` returns the audit entries, or null when there is nothing to change.
   */
  change(mutate: (draft: Draft) => AuditEntry[] | null): Promise<ControlState | null> {
    const run = async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const base = this.state;
        const draft = structuredClone(base);
        const audit = mutate(draft);
        if (audit === null) return null;
        draft.version = base.version + 1;
        draft.snapshot.version = draft.version;
        for (const a of audit) a.version = draft.version;
        if (await this.store.commit(base.version, draft, audit)) {
          for (const a of audit) this.log.info({ audit: a }, `${a.who} ${a.action} ${a.target ?? ''}`.trim());
          this.accept(draft);
          return draft;
        }
        const latest = await this.store.load();
        if (latest) this.accept(latest);
      }
      throw new MeridianError('CONFLICT', 'state changed under us five times in a row; try again');
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  private accept(state: ControlState) {
    if (this.state && state.version <= this.state.version) return;
    // Written by an older control, a running operation may have no phase yet.
    if (state.operation) state.operation = withPhase(state.operation);
    this.state = state;
    this.snap = snapshotFromJson(state.snapshot);
    for (const l of this.listeners) l(state, this.snap);
  }

  /**
   * First state from config. Its epoch is the time the store was made, so an
   * empty (wiped) store outranks what data planes hold from the old one,
   * while a store restored from a backup keeps its old epoch and is refused
   * until `--new-epoch` (see src/feed/README.md).
   */
  private initial(): ControlState {
    const health = unknownUnlessConfigured(this.config);
    const snap = { ...snapshotFromConfig(this.config, { version: 1, health }), epoch: Date.now() };
    const healthWhy = [...health]
      .filter(([, h]) => h === 'UNKNOWN')
      .map(([id]) => [id, NO_EVIDENCE] as [string, string]);
    return { version: 1, snapshot: snapshotToJson(snap), healthWhy, operation: null };
  }

  /**
   * Starts a new epoch: data planes then take this store's snapshots even
   * when they hold a higher version (a control restored from a backup).
   */
  async newEpoch(who = 'control'): Promise<number> {
    let epoch = 0;
    await this.change((draft) => {
      epoch = Math.max(Date.now(), (draft.snapshot.epoch ?? 0) + 1);
      draft.snapshot.epoch = epoch;
      return [{ at: Date.now(), who, role: 'system', action: 'new-epoch', details: { epoch } }];
    });
    return epoch;
  }

  /** Regions added to or removed from the config, and the policy, follow the config. */
  async reconcile(): Promise<void> {
    await this.change((draft) => {
      const fresh = snapshotToJson(
        snapshotFromConfig(this.config, { health: unknownUnlessConfigured(this.config) }),
      );
      const known = new Map(draft.snapshot.regions.map((r) => [r.id, r]));
      const regions = fresh.regions.map((r) => {
        const old = known.get(r.id);
        return old ? { ...r, health: old.health, dial: old.dial, load: old.load, demand: old.demand } : r;
      });
      const policy = fresh.policy;
      const same =
        JSON.stringify(regions) === JSON.stringify(draft.snapshot.regions) &&
        JSON.stringify(policy) === JSON.stringify(draft.snapshot.policy);
      if (same) return null;
      draft.snapshot.regions = regions;
      draft.snapshot.policy = policy;
      return [{ at: Date.now(), who: 'control', role: 'system', action: 'reconcile-config' }];
    });
  }
}
