import type dnsPacket from 'dns-packet';

export interface CachedAnswer {
  rcode: string;
  answers: dnsPacket.Answer[];
  authorities: dnsPacket.Answer[];
  /** ECS scope prefix length the name server answered with (0 when it sent none). */
  scope: number;
  storedAt: number;
  expiresAt: number;
}

/**
 * Answers by (name, type, client subnet), each kept for its TTL and no
 * longer; at most `maxEntries`, the least recently used going first.
 */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedAnswer | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    if (hit.expiresAt <= this.now()) return undefined;
    this.entries.set(key, hit);
    return hit;
  }

  /** Keeps the answer for `ttlS` seconds; a TTL of 0 is not kept. */
  set(key: string, answer: Omit<CachedAnswer, 'storedAt' | 'expiresAt'>, ttlS: number): void {
    if (ttlS <= 0 || this.maxEntries <= 0) return;
    const storedAt = this.now();
    this.entries.delete(key);
    this.entries.set(key, { ...answer, storedAt, expiresAt: storedAt + ttlS * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The records as they are `elapsedMs` after they were stored: each TTL counted down, never below 0. */
export function agedRecords(records: readonly dnsPacket.Answer[], elapsedMs: number): dnsPacket.Answer[] {
  const elapsedS = Math.floor(elapsedMs / 1000);
  return records.map((r) => {
    const ttl = (r as { ttl?: number }).ttl ?? 0;
    return { ...r, ttl: Math.max(0, ttl - elapsedS) } as dnsPacket.Answer;
  });
}

/** How long an answer may be kept: its smallest TTL; for a negative answer, the SOA's (RFC 2308). */
export function cacheTtl(
  rcode: string,
  answers: readonly dnsPacket.Answer[],
  authorities: readonly dnsPacket.Answer[],
): number {
  const ttls = (rs: readonly dnsPacket.Answer[]) => rs.map((r) => (r as { ttl?: number }).ttl ?? 0);
  if (rcode === 'NOERROR' && answers.length > 0) return Math.min(...ttls(answers));
  if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return 0;
  const soa = authorities.find((r) => r.type === 'SOA') as dnsPacket.SoaAnswer | undefined;
  if (!soa) return 0;
  return Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
}
