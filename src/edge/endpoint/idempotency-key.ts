/**
 * Whether upstream headers (name, value, ...) carry the idempotency key `name`
 * (lower case; '' means the edge ignores keys): exactly one non-empty header.
 * Two could name two operations (which would the origin dedupe by?).
 */
export function carriesIdempotencyKey(headers: readonly string[], name: string): boolean {
  if (name === '') return false;
  let found = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length !== name.length || headers[i].toLowerCase() !== name) continue;
    if (headers[i + 1].trim() === '') return false;
    found++;
  }
  return found === 1;
}
