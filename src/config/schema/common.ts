import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { parseCidr, parseIpv4, parseIpv6 } from '../../core/ip.js';

/**
 * "250ms", "1.5s", "2m" or a number of milliseconds -> whole milliseconds (rounded): timers and
 * AbortSignal.timeout, which refuses a fraction, take them as they are.
 */
export const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration such as "500ms", "2s" or "1m"'),
  ])
  .transform((v) => Math.round(typeof v === 'number' ? v : parseDuration(v)!));

export const ipv4 = z
  .string()
  .refine((s) => parseIpv4(s) !== null, 'expected an IPv4 address such as 192.0.2.10');
export const ipv6 = z
  .string()
  .refine((s) => parseIpv6(s) !== null, 'expected an IPv6 address such as 2001:db8::10');
export const cidr = z
  .string()
  .refine((s) => parseCidr(s) !== null, 'expected an address or CIDR such as 10.0.0.0/8');
export const httpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(s) && URL.canParse(s), 'expected an http(s) URL');
export const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}\.?$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.?$/,
    {
      message: 'expected a DNS name such as api.example.com',
    },
  )
  .transform((s) => s.toLowerCase().replace(/\.$/, ''));
export const regionId = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, 'expected a region id such as us-east-1');
export const percent = z.number().min(0).max(100);
