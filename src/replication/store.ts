// One region's Redis as the cache sees it: reads, and the atomic
// compare-and-apply of a write (local or replicated).
import type { Redis } from 'ioredis';
import { APPLY_LUA } from './apply-script.js';
import type { ReplicationEvent } from './event.js';

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** applied: the stamp replaced ('' when none); otherwise the stamp stored. */
  stamp: string;
}

type ApplyCommand = (
  key: string,
  hlc: string,
  op: string,
  value: string,
  expireAt: number,
  tombstoneMs: number,
) => Promise<[number, string]>;

const COMMAND = 'meridianReplApply';

export interface RegionStoreOptions {
  keyPrefix: string;
  tombstoneTtlMs: number;
}

export class RegionStore {
  private readonly applyCommand: ApplyCommand;

  constructor(
    readonly redis: Redis,
    private readonly options: RegionStoreOptions,
  ) {
    // defineCommand sends EVALSHA and loads the script on NOSCRIPT (after a Redis restart too).
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: APPLY_LUA });
    const command = (redis as unknown as Record<string, ApplyCommand>)[COMMAND];
    this.applyCommand = command.bind(redis);
  }

  redisKey(key: string): string {
    return this.options.keyPrefix + key;
  }

  async apply(e: ReplicationEvent): Promise<ApplyResult> {
    const [code, stamp] = await this.applyCommand(
      this.redisKey(e.key),
      e.hlc,
      e.op,
      e.value ?? '',
      e.expireAt ?? 0,
      this.options.tombstoneTtlMs,
    );
    return { outcome: code === 1 ? 'applied' : code === 0 ? 'duplicate' : 'stale', stamp };
  }

  /** The value, or null for a missing, deleted or expired key. */
  get(key: string): Promise<string | null> {
    return this.redis.hget(this.redisKey(key), 'v');
  }

  /** The stamp of the last write to the key (tombstones included), or null. */
  stamp(key: string): Promise<string | null> {
    return this.redis.hget(this.redisKey(key), 'h');
  }
}
