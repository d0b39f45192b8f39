import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { MeridianConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import { type Cohort, extraCohorts } from './cohorts.js';
import { labOutlierClocks, labRolloutPlan, type ReleaseWiring } from './release-config.js';

export interface LabTokens {
  operator: string;
  /** Follows the feed, reports for no region (DNS). */
  agent: string;
  viewer: string;
  /** Region -> its edge's agent token, bound to that region. */
  edges: Map<string, string>;
}

export interface LabWiring {
  /** Region -> the URL other regions reach its edge at (a fault proxy). */
  edgeUrls: ReadonlyMap<string, string>;
  /** Region -> URLs its edge reaches its origins at (counting proxies). */
  originUrls: ReadonlyMap<string, string[]>;
  /** Region -> capacity in req/s the lab runs the region with. */
  capacities: ReadonlyMap<string, number>;
  tokens: LabTokens;
  stateDir: string;
  /** 0700 directory of the lab's secret files (0600). */
  secretsDir: string;
  /** Control's riseAfter, shortened to the lab's time scale. */
  riseAfterMs: number;
  /** Control's autoRestore.stepInterval, shortened likewise, so a recovered region comes back within the drill. */
  restoreStepMs: number;
  /** Edges' active health-check interval, shortened likewise, so a restarted origin is seen up within the drill. */
  healthCheckIntervalMs: number;
  /**
   * The comparison cohorts (`labCohorts(config)`): each one not the config's own gets a service of its
   * own, a copy of the first one with the cohort's hostname, TTL and policy, on the same origins.
   * Absent: the user's services only.
   */
  cohorts?: readonly Cohort[];
  /** The zone's name servers: one per region (the same list in every region's file). */
  nameservers: readonly { name: string; ipv4: string[] }[];
  /** Control's store: the SQLite file of the single instance, or the lab's etcd cluster as this instance reaches it. */
  store: { type: 'sqlite'; file: string } | { type: 'etcd'; endpoints: string[]; leaseTtl: number };
  /** This control instance's address (its listen and the URL other instances and followers use). */
  controlListen?: string;
  /** The rollout plan's webhooks and the run's length (release-config.ts); absent: no plan. */
  release?: ReleaseWiring;
}

export const newToken = () => randomBytes(18).toString('base64url');

/** The lab's 0600 secret files: the edges read theirs by `file:PATH` in the config, never the secret. */
export const labSecretFiles = (secretsDir: string) => ({
  peerKey: `${secretsDir}/edge-peer.key`,
  edgeAdminToken: `${secretsDir}/edge-admin.token`,
  /** An operator token for other programs (`meridian status --token-file`), named in endpoints.json. */
  operatorToken: `${secretsDir}/operator.token`,
  /** The bearer token of the lab's `POST /deploy` (admin.ts), which control's rollout webhooks send. */
  deployToken: `${secretsDir}/lab-deploy.token`,
});

/** The variables control reads the lab's tokens from (control.tokens[].env): the config holds no secret. */
export const LAB_TOKEN_ENV = {
  operator: 'MERIDIAN_LAB_OPERATOR_TOKEN',
  agent: 'MERIDIAN_LAB_AGENT_TOKEN',
  viewer: 'MERIDIAN_LAB_VIEWER_TOKEN',
} as const;
/** The variable of the i-th region's edge token (region ids need not be valid variable names). */
const edgeTokenEnv = (i: number) => `MERIDIAN_LAB_EDGE_${i}_TOKEN`;

/** Control's environment: every lab token under its variable. */
export const labTokenEnv = (tokens: LabTokens): Record<string, string> => ({
  [LAB_TOKEN_ENV.operator]: tokens.operator,
  [LAB_TOKEN_ENV.agent]: tokens.agent,
  [LAB_TOKEN_ENV.viewer]: tokens.viewer,
  ...Object.fromEntries([...tokens.edges.values()].map((token, i) => [edgeTokenEnv(i), token])),
});

/**
 * Capacities scaled to what this machine can offer: each region alone carries
 * the whole lab rate at two thirds of its capacity (configured ratios kept),
 * so gates, headroom and shedding act as they would at full scale.
 */
export function labCapacities(config: MeridianConfig, rate: number): Map<string, number> {
  const biggest = Math.max(...config.regions.map((r) => r.capacity));
  return new Map(
    config.regions.map((r) => [r.id, Math.max(1, Math.round((r.capacity / biggest) * rate * 1.5))]),
  );
}

/**
 * The config the lab's servers run with: the user's file, with edges and
 * origins on the lab's ports, lab tokens for control, and control's and the
 * health checks' clocks shortened to the lab's time scale. Everything else is the user's.
 */
export function labConfigDocument(
  file: string,
  config: MeridianConfig,
  wiring: LabWiring,
): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new MeridianError('CONFIG_UNREADABLE', `${file}: ${(e as Error).message}`);
  }
  const regions = (doc.regions as Record<string, unknown>[]).map((r) => ({
    ...r,
    edge: wiring.edgeUrls.get(String(r.id)),
    capacity: wiring.capacities.get(String(r.id)),
  }));
  const services = (doc.services as Record<string, unknown>[]).map((s, i) => ({
    ...s,
    origins: config.services[i].origins.map((o) => ({
      region: o.region,
      urls: wiring.originUrls.get(o.region),
    })),
    healthCheck: {
      ...((s.healthCheck as object | undefined) ?? {}),
      interval: Math.min(config.services[i].healthCheck.interval, wiring.healthCheckIntervalMs),
    },
  }));
  // Every cohort's hostname is served by every edge, on the first service's origins (the edges pick a
  // service by Host), and answered by meridian dns with the cohort's TTL and policy.
  const cohortServices = extraCohorts(wiring.cohorts ?? []).map((c) => ({
    ...services[0],
    name: c.service,
    hostname: c.hostname,
    ttl: c.ttl,
    answers: c.answers,
  }));
  const served = [...config.services.map((s) => s.name), ...cohortServices.map((s) => s.name)];
  const control = (doc.control as Record<string, unknown> | undefined) ?? {};
  const secrets = labSecretFiles(wiring.secretsDir);
  const edge = (doc.edge as Record<string, unknown> | undefined) ?? {};

  const zone = (doc.zone as Record<string, unknown> | undefined) ?? {};
  return {
    ...doc,
    zone: { ...zone, nameservers: wiring.nameservers },
    regions,
    services: [...services, ...cohortServices],
    control: {
      ...control,
      listen: wiring.controlListen ?? '127.0.0.1:0',
      ...(wiring.controlListen ? { url: `http://${wiring.controlListen}` } : {}),
      tokens: [
        { name: 'lab-operator', role: 'operator', env: LAB_TOKEN_ENV.operator },
        { name: 'lab-agent', role: 'agent', env: LAB_TOKEN_ENV.agent, regions: [] },
        { name: 'lab-viewer', role: 'viewer', env: LAB_TOKEN_ENV.viewer },
        ...[...wiring.tokens.edges.keys()].map((region, i) => ({
          name: `lab-edge-${region}`,
          role: 'agent',
          env: edgeTokenEnv(i),
          regions: [region],
        })),
      ],
      store: wiring.store,
      health: { ...((control.health as object | undefined) ?? {}), riseAfter: wiring.riseAfterMs },
      autoRestore: {
        ...((control.autoRestore as object | undefined) ?? {}),
        stepInterval: wiring.restoreStepMs,
      },
      ...(wiring.release
        ? {
            outlier: labOutlierClocks(
              wiring.release.durationS,
              wiring.release.rate,
              control.outlier as Record<string, unknown> | undefined,
            ),
          }
        : {}),
    },
    ...(wiring.release ? { rollout: labRolloutPlan(wiring.release) } : {}),
    // One machine runs every server: one process each, not one per core.
    // The lab's users all ask from 127.0.0.1, as if through one big resolver: no response-rate limit.
    dns: { ...((doc.dns as object | undefined) ?? {}), workers: 1, rateLimit: { enabled: false } },
    edge: {
      ...edge,
      workers: 1,
      // Scaled with the run like the origin checks: a peer edge that died is seen within one probe,
      // and kong judges that live edges stop sending to it within 1 s.
      peerProbeInterval: Math.min(config.edge.peerProbeInterval, wiring.healthCheckIntervalMs),
      // Edges sign their hops, so the isthmus, retries and failover are believed across regions;
      // drills may set faults on an edge's admin port with the operator token.
      peers: { ...((edge.peers as object | undefined) ?? {}), key: `file:${secrets.peerKey}` },
      admin: { listen: '127.0.0.1:0', faults: true, token: `file:${secrets.edgeAdminToken}` },
      // The watch list's PUT and DELETE are idempotent: safe to retry in another region,
      // and so is any 5xx: a broken build answers 500, which the default list (502-504) passes on.
      services: served.map((name) => ({
        name,
        idempotentMethods: ['PUT', 'DELETE'],
        retryStatuses: [500, 502, 503, 504],
      })),
    },
  };
}
