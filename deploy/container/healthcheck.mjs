// The image's HEALTHCHECK: 0 when the daemon in this container is ready.
// MERIDIAN_READY_URL names the endpoint; without it the default admin ports on
// loopback are tried (control 8300, dns 8301, edge 8302, replication 8303).
const urls = process.env.MERIDIAN_READY_URL
  ? [process.env.MERIDIAN_READY_URL]
  : [8300, 8301, 8302, 8303].map((port) => `http://127.0.0.1:${port}/meridian/ready`);

for (const url of urls) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (res.status === 200) process.exit(0);
  } catch {
    // nothing listening there: try the next port
  }
}
process.exit(1);
