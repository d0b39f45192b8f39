import type { Command } from 'commander';
import type { MeridianConfig } from '../config/index.js';
import type { AnswerPolicy } from '../core/answer-regions.js';
import type { Decision, Health } from '../core/model.js';
import { MeridianError } from '../errors.js';
import type { GeoLocator } from '../geo/index.js';
import { liveState } from './explain-live.js';
import { action, collect, configOption, jsonOption, parseDial, printJson, table } from './index-helpers.js';
import { controlToken, secretOption } from './secret.js';
import { clientFor, type Status } from './status.js';

export interface ExplainInput {
  client: string;
  service?: string;
  down?: string[];
  dial?: string[];
  /** The answer policy to explain with, instead of the service's (services[].answers, else steering.answers). */
  answers?: string;
  /** Health and dials from control (`--control`); --down and --dial override them. */
  live?: ReturnType<typeof liveState>;
}

const ANSWER_POLICIES: readonly AnswerPolicy[] = ['home', 'home+fallback'];

export async function explain(config: MeridianConfig, input: ExplainInput, geo?: GeoLocator) {
  const { serviceAnswers, snapshotFromConfig } = await import('../config/index.js');
  const { answerRegions } = await import('../core/answer-regions.js');
  const { decide } = await import('../core/decide.js');
  const service = input.service
    ? config.services.find((s) => s.name === input.service || s.hostname === input.service)
    : config.services[0];
  if (!service) {
    const names = config.services.map((s) => s.name).join(', ');
    throw new MeridianError('UNKNOWN_SERVICE', `no service "${input.service}"; known: ${names}`);
  }
  const regionIds = new Set(config.regions.map((r) => r.id));
  const checkRegion = (id: string, flag: string) => {
    if (!regionIds.has(id)) {
      throw new MeridianError(
        'UNKNOWN_REGION',
        `${flag}: no region "${id}"; known: ${[...regionIds].join(', ')}`,
      );
    }
  };
  const health = new Map<string, Health>(input.live?.health);
  for (const id of input.down ?? []) {
    checkRegion(id, '--down');
    health.set(id, 'DOWN');
  }
  const dials = new Map<string, number>(input.live?.dials);
  for (const text of input.dial ?? []) {
    const [id, pct] = parseDial(text);
    checkRegion(id, '--dial');
    dials.set(id, pct);
  }
  const own = serviceAnswers(config, service);
  const policy = (input.answers ?? own.answers) as AnswerPolicy;
  if (!ANSWER_POLICIES.includes(policy)) {
    throw new MeridianError(
      'BAD_ARGUMENT',
      `--answers: expected ${ANSWER_POLICIES.join(' or ')}, got "${input.answers}"`,
    );
  }
  const locator = geo ?? (await (await import('../geo/index.js')).GeoLocator.open(config.geo));
  const client = locator.client(input.client);
  const snapshot = snapshotFromConfig(config, { health, dials });
  const decision: Decision = decide(client, snapshot);
  const byId = new Map(config.regions.map((r) => [r.id, r]));
  const first = byId.get(decision.candidates[0]?.region);
  // As meridian dns answers: per family, the region with addresses of it, then its fallback's.
  const family = (f: 'ipv4' | 'ipv6') => {
    const picked = answerRegions(
      decision,
      snapshot,
      policy,
      (id) => (byId.get(id)?.addresses[f].length ?? 0) > 0,
    );
    const list = [picked?.region, picked?.fallback].flatMap((id) => (id ? byId.get(id)!.addresses[f] : []));
    return { picked, addresses: [...new Set(list)] };
  };
  const v4 = family('ipv4');
  const v6 = family('ipv6');
  return {
    client: input.client,
    subnet: client.subnet,
    location: client.location,
    service: { name: service.name, hostname: service.hostname },
    region: decision.candidates[0]?.region ?? null,
    answer: first ? { ipv4: v4.addresses, ipv6: v6.addresses, edge: first.edge } : null,
    answers: policy,
    /** The region whose addresses follow in the A answer (the AAAA one when no region has IPv4). */
    fallback: (v4.picked ? v4.picked.fallback : v6.picked?.fallback) ?? null,
    home: decision.home,
    homeReason: decision.homeReason,
    shed: decision.shed,
    candidates: decision.candidates,
    /** The TTL of this service's steered answers: services[].ttl, else zone.ttl. */
    ttl: own.ttl,
    /** With --control: why control's health and dials are what they are (outlier evacuations, the global hold). */
    control: input.live ? { notes: input.live.notes } : null,
  };
}

export type Explanation = Awaited<ReturnType<typeof explain>>;

export function formatExplanation(e: Explanation): string {
  const loc = e.location;
  const where = loc
    ? [loc.city, loc.subdivision, loc.country].filter(Boolean).join(', ') +
      (loc.point ? ` (${loc.point.lat.toFixed(2)}, ${loc.point.lon.toFixed(2)})` : '')
    : 'unknown (private, reserved or not in the geo database)';
  const answer = e.answer ? [...e.answer.ipv4, ...e.answer.ipv6].join(' ') : '-';
  const lines = [
    table([
      ['client', `${e.client} (network ${e.subnet})`],
      ['location', where],
      ['service', `${e.service.name} (${e.service.hostname})`],
      ['region', `${e.region ?? '-'}${e.shed ? '  (over capacity: the edge sheds)' : ''}`],
      ['answer', `${answer}  ttl ${e.ttl}s`],
      [
        'answers',
        e.answers === 'home'
          ? 'home (one region)'
          : `home+fallback: ${e.fallback ? `then ${e.fallback}` : 'no other region up with dial > 0'}`,
      ],
    ]),
    'candidates:',
    table(e.candidates.map((c, i) => [`  ${i + 1}.`, c.region, c.reason, c.detail])),
  ];
  if (e.control) {
    lines.push(`control: ${e.control.notes.length === 0 ? 'every region HEALTHY, no automatic move' : ''}`);
    for (const n of e.control.notes) lines.push(`  ${n}`);
  }
  return lines.join('\n');
}

export function registerExplain(program: Command) {
  const cmd = program
    .command('explain')
    .description('show where a client is steered and why')
    .addOption(configOption())
    .requiredOption('--client <address>', 'client IPv4/IPv6 address')
    .option('--service <name>', 'service name or hostname (default: the first)')
    .option('--down <region>', 'treat REGION as DOWN (repeatable)', collect)
    .option('--dial <region=pct>', 'set REGION dial to PCT (repeatable)', collect)
    .option(
      '--answers <policy>',
      "answer policy: home or home+fallback (default: the service's, else steering.answers)",
    )
    .option(
      '--control <urls>',
      "take health and dials from control and say why (outlier evacuations, the global hold); token as for 'meridian status'",
    )
    .addOption(jsonOption());
  secretOption(cmd, controlToken('bearer token for --control')).action(
    action(async (opts: ExplainInput & { config: string; json?: boolean; control?: string }) => {
      const live = opts.control
        ? liveState(
            await (await clientFor({ ...opts, control: opts.control })).call<Status>('GET', '/v1/status'),
          )
        : undefined;
      const { loadConfig } = await import('../config/index.js');
      const result = await explain(loadConfig(opts.config), { ...opts, live });
      if (opts.json) printJson(result);
      else process.stdout.write(`${formatExplanation(result)}\n`);
    }),
  );
}
