/** How often timers over many connections are checked: a quarter of the shortest, within 10 ms..1 s. */
export function sweepInterval(...timeouts: number[]): number {
  const shortest = Math.min(...timeouts.filter((t) => t > 0), 4000);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
}
