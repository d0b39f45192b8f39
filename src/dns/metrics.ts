// Counters are plain numbers on the query path and become Prometheus series
// only when /metrics is scraped: a label lookup per query would cost more
// than the answer itself.
import { Counter, Gauge, Registry } from 'prom-client';
import { registerConventions } from '../metrics-conventions.js';
import { RCODE, TYPE } from './wire.js';

/**
 * Question types named in the `qtype` label. Anything else is `other`: the
 * type is chosen by whoever sends the query, and one series per value would
 * let a stranger grow every scrape (and the counter map) by 65,536 series.
 */
const KNOWN_TYPES: Record<string, number> = {
  ...TYPE,
  PTR: 12,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  CAA: 257,
};
const TYPE_NAMES = new Map<number, string>(Object.entries(KNOWN_TYPES).map(([k, v]) => [v, k]));
/** Stands for every unknown type in the counter map (outside 0-65535). */
const OTHER_TYPE = 0x10000;
/** Set when no question could be read (FORMERR, runts). */
TYPE_NAMES.set(0, 'none');
TYPE_NAMES.set(OTHER_TYPE, 'other');
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));
const typeName = (t: number) => TYPE_NAMES.get(t) ?? 'other';
const rcodeName = (r: number) => RCODE_NAMES.get(r) ?? `RCODE${r}`;

export class DnsMetrics {
  readonly registry = new Registry();
  /** (known qtype or OTHER_TYPE) * 32 + rcode) * 2 + (tcp ? 1 : 0) -> count. */
  private readonly queries = new Map<number, number>();
  private readonly answers = new Map<string, number>();
  private readonly limited = { truncate: 0, drop: 0 };
  private dropped = 0;
  readonly latency = new LatencyHistogram(
    'meridian_dns_query_duration_seconds',
    'Time to answer one query, from bytes in to bytes out',
    [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025],
  );
  readonly reloads: Counter;
  readonly snapshotVersion: Gauge;

  constructor() {
    const self = this;
    new Counter({
      name: 'meridian_dns_queries_total',
      help: 'Queries answered, by question type, response code and transport',
      labelNames: ['qtype', 'rcode', 'transport'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [key, n] of self.queries) {
          const tcp = key % 2;
          const rest = (key - tcp) / 2;
          this.inc(
            {
              qtype: typeName(Math.floor(rest / 32)),
              rcode: rcodeName(rest % 32),
              transport: tcp ? 'tcp' : 'udp',
            },
            n,
          );
        }
      },
    });
    new Counter({
      name: 'meridian_dns_answers_total',
      help: 'Steered answers, by the region answered with',
      labelNames: ['region'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [region, n] of self.answers) this.inc({ region }, n);
      },
    });
    new Counter({
      name: 'meridian_dns_rate_limited_total',
      help: 'Responses held back by response-rate limiting, by what was done instead',
      labelNames: ['action'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ action: 'truncate' }, self.limited.truncate);
        this.inc({ action: 'drop' }, self.limited.drop);
      },
    });
    new Counter({
      name: 'meridian_dns_dropped_total',
      help: 'Messages dropped unanswered (responses, runts)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.dropped);
      },
    });
    this.registry.registerMetric(this.latency as never);
    this.reloads = new Counter({
      name: 'meridian_dns_reloads_total',
      help: 'Zone and snapshot changes taken without a restart',
      registers: [this.registry],
    });
    this.snapshotVersion = new Gauge({
      name: 'meridian_dns_snapshot_version',
      help: 'Version of the snapshot being served',
      registers: [this.registry],
      // Workers of one server serve the same feed: summing versions would mean nothing.
      aggregator: 'min',
    });
    registerConventions(this.registry, 'dns');
  }

  query(qtype: number, rcode: number, tcp: boolean) {
    const t = TYPE_NAMES.has(qtype) ? qtype : OTHER_TYPE;
    const key = (t * 32 + (rcode & 31)) * 2 + (tcp ? 1 : 0);
    this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
  }

  answer(region: string) {
    this.answers.set(region, (this.answers.get(region) ?? 0) + 1);
  }

  rateLimited(action: 'truncate' | 'drop') {
    this.limited[action]++;
  }

  drop() {
    this.dropped++;
  }
}

/**
 * A histogram kept as plain numbers (prom-client's observe() costs more than
 * answering a query), exported in prom-client's shape so clusters can sum it.
 */
export class LatencyHistogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number) {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i];
      values.push({ labels: { le }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset() {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
