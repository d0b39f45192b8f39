import { z } from 'zod';
import { httpUrl, ipv4, ipv6, percent, regionId } from './common.js';

export const regionSchema = z.strictObject({
  id: regionId.describe('Short stable id, such as us-east-1: used everywhere else in this file.'),
  name: z.string().min(1).optional().describe('Display name; default: the id.'),
  location: z
    .strictObject({
      lat: z.number().min(-90).max(90).describe('Latitude in degrees.'),
      lon: z.number().min(-180).max(180).describe('Longitude in degrees.'),
    })
    .describe('Where the region is: nearest-region steering and the dashboard map use it.'),
  capacity: z.number().positive().describe('Requests per second the region can serve.'),
  addresses: z
    .strictObject({
      ipv4: z.array(ipv4).default([]).describe('IPv4 addresses (A answers).'),
      ipv6: z.array(ipv6).default([]).describe('IPv6 addresses (AAAA answers).'),
    })
    .refine((a) => a.ipv4.length + a.ipv6.length > 0, 'expected at least one IPv4 or IPv6 address')
    .describe('Public addresses that DNS answers with for this region.'),
  edge: httpUrl.describe("The region's edge gateway, for cross-region proxying and retries."),
  dial: percent
    .default(100)
    .describe('Initial traffic dial: the share (0-100) of its home clients the region keeps.'),
  health: z
    .enum(['HEALTHY', 'DEGRADED', 'DOWN'])
    .default('HEALTHY')
    .describe(
      'Health to serve before the control plane says otherwise. A server that follows this file (no control plane) serves exactly this, so setting DOWN here moves traffic without a restart.',
    ),
});

export type RegionConfig = z.output<typeof regionSchema>;
