// The lab compares answer policies and TTLs in one run: users are split into
// cohorts, each calling its own hostname whose record set has its own policy
// and TTL (services[].answers, services[].ttl), all served by the same origins.
import { type MeridianConfig, serviceAnswers } from '../config/index.js';
import type { AnswerPolicy } from '../core/answer-regions.js';
import { absoluteName } from '../dns/zone.js';
import { MeridianError } from '../errors.js';

export interface Cohort {
  /** "home+fallback ttl 5": what the report calls it. */
  name: string;
  /** The name its users resolve and send as Host. */
  hostname: string;
  /** The service serving that hostname: the first service itself, or a copy of it named for the cohort. */
  service: string;
  answers: AnswerPolicy;
  ttl: number;
  /** True for the cohort with the config's own policy and TTL: the first service's real hostname. */
  own: boolean;
}

export const COHORT_ANSWERS: readonly AnswerPolicy[] = ['home', 'home+fallback'];
export const COHORT_TTLS: readonly number[] = [30, 5];

const label = (answers: AnswerPolicy, ttl: number) => `${answers === 'home' ? 'h' : 'hf'}-${ttl}`;
export const cohortName = (answers: AnswerPolicy, ttl: number) => `${answers} ttl ${ttl}`;

/**
 * The lab's comparison cohorts from the user's config: home and home+fallback at TTL 30 s and 5 s,
 * each on `<h|hf>-<ttl>.<first service's hostname>` (inside the zone, as that hostname is), except
 * the one equal to the first service's own policy and TTL, which keeps its hostname. When the
 * config's own pair is none of those four it is a fifth cohort, listed first, so the user's own
 * setting is measured too. Throws CONFIG_INVALID when a derived name is already taken.
 */
export function labCohorts(config: MeridianConfig): Cohort[] {
  const first = config.services[0];
  const own = serviceAnswers(config, first);
  const pairs: [AnswerPolicy, number][] = COHORT_ANSWERS.flatMap((a) =>
    COHORT_TTLS.map((t): [AnswerPolicy, number] => [a, t]),
  );
  if (!pairs.some(([a, t]) => a === own.answers && t === own.ttl)) pairs.unshift([own.answers, own.ttl]);
  const cohorts = pairs.map(([answers, ttl]): Cohort => {
    const isOwn = answers === own.answers && ttl === own.ttl;
    return {
      name: cohortName(answers, ttl),
      hostname: isOwn ? first.hostname : `${label(answers, ttl)}.${first.hostname}`,
      service: isOwn ? first.name : `${first.name}-${label(answers, ttl)}`,
      answers,
      ttl,
      own: isOwn,
    };
  });
  checkFree(config, cohorts);
  return cohorts;
}

function checkFree(config: MeridianConfig, cohorts: Cohort[]) {
  const hostnames = new Set(config.services.map((s) => s.hostname));
  const names = new Set(config.services.map((s) => s.name));
  const records = new Set(config.zone.records.map((r) => absoluteName(r.name, config.zone.name)));
  for (const c of cohorts.filter((c) => !c.own)) {
    const taken =
      hostnames.has(c.hostname) || records.has(c.hostname)
        ? `hostname ${c.hostname}`
        : names.has(c.service)
          ? `service name ${c.service}`
          : c.hostname.length > 253
            ? `hostname ${c.hostname} (longer than 253 characters)`
            : null;
    if (taken) {
      throw new MeridianError(
        'CONFIG_INVALID',
        `the lab's cohort "${c.name}" needs the ${taken}, which the config already uses or cannot hold`,
        ['the lab derives one hostname per cohort from the first service: rename the clashing one'],
      );
    }
  }
}

/** Cohorts that need a service of their own in the lab's config (all but the config's own). */
export const extraCohorts = (cohorts: readonly Cohort[]) => cohorts.filter((c) => !c.own);

/**
 * The name of the cohort a user belongs to, evenly and the same every run: by index (users `u0`,
 * `u1`, ... round-robin over the cohorts, so each gets the same mix of places), or by a hash of any other id.
 */
export function cohortOf(cohorts: readonly Cohort[], user: number | string): string {
  return cohortFor(cohorts, user).name;
}

/** The cohort itself (hostname, policy, TTL) of a user, as `cohortOf` picks it. */
export function cohortFor(cohorts: readonly Cohort[], user: number | string): Cohort {
  if (cohorts.length === 0) throw new MeridianError('BAD_ARGUMENT', 'cohortOf: no cohorts');
  const index = typeof user === 'number' ? user : indexOf(user);
  return cohorts[((index % cohorts.length) + cohorts.length) % cohorts.length];
}

function indexOf(id: string): number {
  const digits = /^[a-z]*(\d+)$/i.exec(id);
  if (digits) return Number(digits[1]);
  // FNV-1a: stable across runs and machines.
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
