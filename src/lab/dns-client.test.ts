import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsClient } from './dns-client.js';

test('DNS client sends the subnet in ECS and reads A answers with their TTL', async () => {
  const server = createSocket('udp4');
  const seen: unknown[] = [];
  server.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const opt = q.additionals?.find((r) => r.type === 'OPT') as { options?: unknown[] } | undefined;
    seen.push(opt?.options?.[0]);
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions,
      answers: [{ type: 'A', name: 'api.example.com', ttl: 30, data: '192.0.2.10' }],
    });
    server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  const client = new DnsClient({ address: '127.0.0.1', port: server.address().port });
  try {
    const answer = await client.query('api.example.com', '171.64.1.0/24');
    assert.deepEqual(answer, { addresses: ['192.0.2.10'], ttl: 30, rcode: 'NOERROR' });
    assert.equal((seen[0] as { ip: string }).ip, '171.64.1.0');
    assert.equal((seen[0] as { sourcePrefixLength: number }).sourcePrefixLength, 24);
  } finally {
    client.close();
    server.close();
  }
});
