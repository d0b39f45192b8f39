// The WebSocket echo origin of `npm run bench -- edge` (its own process):
// node --import tsx bench/edge/ws-origin.ts PORT. GET / answers 200 (health check).
import { createServer } from 'node:http';
import { acceptWebSockets } from '../../test/helpers/websocket.js';

const server = createServer((_req, res) => res.end('ok\n'));
acceptWebSockets(server, 'bench');
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('listening\n'));
