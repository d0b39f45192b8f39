import type { ProvidersConfig } from '../config/schema/providers.js';
import { MeridianError } from '../errors.js';
import {
  BUILTIN_CAPABILITIES,
  POWERDNS_CAPABILITIES,
  RFC2136_CAPABILITIES,
  ROUTE53_CAPABILITIES,
} from './capabilities.js';
import type { Capabilities, DnsProvider, Steering } from './model.js';

/** Everything a provider may need; each provider reads its own fields. */
export interface ProviderSettings {
  apiUrl?: string;
  apiKey?: string;
  serverId?: string;
  server?: string;
  tsigName?: string;
  tsigAlgorithm?: string;
  tsigSecret?: string;
  hostedZoneId?: string;
  endpoint?: string;
}

export interface ProviderInfo {
  name: string;
  capabilities: Capabilities;
  /** Flags it takes; secrets are marked so that nothing prints them. */
  options: { flag: string; env: string; secret?: boolean; required?: boolean }[];
}

export const PROVIDERS: readonly ProviderInfo[] = [
  { name: 'builtin', capabilities: BUILTIN_CAPABILITIES, options: [] },
  {
    name: 'powerdns',
    capabilities: POWERDNS_CAPABILITIES,
    options: [
      { flag: '--api-url', env: 'MERIDIAN_PDNS_API_URL', required: true },
      { flag: '--api-key', env: 'MERIDIAN_PDNS_API_KEY', secret: true, required: true },
      { flag: '--server-id', env: 'MERIDIAN_PDNS_SERVER_ID' },
    ],
  },
  {
    name: 'rfc2136',
    capabilities: RFC2136_CAPABILITIES,
    options: [
      { flag: '--server', env: 'MERIDIAN_RFC2136_SERVER', required: true },
      { flag: '--tsig-name', env: 'MERIDIAN_TSIG_NAME', required: true },
      { flag: '--tsig-algorithm', env: 'MERIDIAN_TSIG_ALGORITHM' },
      { flag: '--tsig-secret', env: 'MERIDIAN_TSIG_SECRET', secret: true, required: true },
    ],
  },
  {
    name: 'route53',
    capabilities: ROUTE53_CAPABILITIES,
    options: [
      { flag: '--hosted-zone-id', env: 'MERIDIAN_ROUTE53_HOSTED_ZONE_ID', required: true },
      { flag: '--endpoint', env: 'MERIDIAN_ROUTE53_ENDPOINT' },
    ],
  },
];

const camel = (flag: string) =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Flags over the config file's providers section; a missing required setting names its flag and env var. */
export async function createProvider(
  name: string,
  settings: ProviderSettings,
  fromConfig?: ProvidersConfig,
  zones: readonly string[] = [],
): Promise<{ provider: DnsProvider; steering?: Steering }> {
  const info = PROVIDERS.find((p) => p.name === name);
  if (!info) {
    throw new MeridianError('BAD_ARGUMENT', `no DNS provider "${name}"`, [
      `known: ${PROVIDERS.map((p) => p.name).join(', ')}`,
    ]);
  }
  const section =
    (fromConfig as Record<string, Record<string, unknown> | undefined> | undefined)?.[name] ?? {};
  const merged = {
    ...section,
    ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
  };
  const missing = info.options.filter((o) => o.required && !merged[camel(o.flag)]);
  if (missing.length > 0) {
    throw new MeridianError(
      'BAD_ARGUMENT',
      `${name} needs ${missing.map((o) => o.flag).join(', ')}`,
      missing.map((o) =>
        o.secret
          ? `${o.flag}, ${o.flag}-file, env ${o.env} or env ${o.env}_FILE`
          : `${o.flag} or env ${o.env} or providers.${name}.${camel(o.flag)} in the config`,
      ),
    );
  }
  const s = merged as ProviderSettings & { steering?: Steering };
  switch (name) {
    case 'powerdns':
      return {
        provider: new (await import('./powerdns.js')).PowerDnsProvider({
          apiUrl: s.apiUrl!,
          apiKey: s.apiKey!,
          serverId: s.serverId,
        }),
        steering: s.steering,
      };
    case 'rfc2136':
      return {
        provider: new (await import('./rfc2136.js')).Rfc2136Provider({
          server: s.server!,
          tsig: { name: s.tsigName!, algorithm: s.tsigAlgorithm ?? 'hmac-sha256', secret: s.tsigSecret! },
        }),
        steering: s.steering,
      };
    case 'route53':
      return {
        provider: new (await import('./route53.js')).Route53Provider({
          hostedZoneId: s.hostedZoneId!,
          endpoint: s.endpoint,
        }),
        steering: s.steering,
      };
    default:
      return { provider: new (await import('./memory.js')).BuiltinProvider(zones) };
  }
}
