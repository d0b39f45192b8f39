// Where a key's replication events sit in the lab's JetStream streams: for a
// data check that found a write lost, whether its event was ever stored (and
// at which sequence) or never reached the stream.
import { connect } from 'nats';
import { decodeBatch } from '../replication/event.js';

/** One line per event of `keys` found in the streams `${stream}_${region}`, read from the node at url. */
export async function searchStreams(
  url: string,
  stream: string,
  regions: readonly string[],
  keys: ReadonlySet<string>,
): Promise<string[]> {
  const nc = await connect({ servers: url, timeout: 2000, maxReconnectAttempts: 0 });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2000 });
    const lines: string[] = [];
    for (const region of regions) {
      const name = `${stream}_${region}`;
      const info = await jsm.streams.info(name).catch(() => null);
      if (!info) {
        lines.push(`${name}: no stream`);
        continue;
      }
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!message) continue;
        for (const e of decodeBatch(message.data, region).events)
          if (keys.has(e.key)) lines.push(`${e.key}: ${name} seq ${seq} ${e.op} @${e.hlc}`);
      }
    }
    return lines;
  } finally {
    await nc.close();
  }
}
