/**
 * A stable number in [0, 1) for a client network. DNS and every edge use the
 * same function, so a network keeps its answer while the dial holds.
 */
export function subnetHash(subnet: string): number {
  // FNV-1a over the text, then the murmur3 finalizer so nearby subnets spread out.
  let h = 0x811c9dc5;
  for (let i = 0; i < subnet.length; i++) {
    h ^= subnet.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}
