import { z } from 'zod';
import { httpUrl, ipv4, ipv6, percent, regionId } from './common.js';

export const regionSchema = z.strictObject({
  id: regionId,
  name: z.string().min(1).optional(),
  location: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
  /** Requests per second the region can serve. */
  capacity: z.number().positive(),
  /** Public addresses that DNS answers with for this region. */
  addresses: z
    .strictObject({ ipv4: z.array(ipv4).default([]), ipv6: z.array(ipv6).default([]) })
    .refine((a) => a.ipv4.length + a.ipv6.length > 0, 'expected at least one IPv4 or IPv6 address'),
  /** The region's edge gateway, for cross-region proxying and retries. */
  edge: httpUrl,
  /** Initial traffic dial: the share (0-100) of its home clients the region keeps. */
  dial: percent.default(100),
  /**
   * Health to serve before the control plane says otherwise. A server that
   * follows this file (no control plane) serves exactly this, so setting DOWN
   * here moves traffic without a restart.
   */
  health: z.enum(['HEALTHY', 'DEGRADED', 'DOWN']).default('HEALTHY'),
});

export type RegionConfig = z.output<typeof regionSchema>;
