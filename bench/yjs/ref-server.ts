// A reference Yjs server in its own process, for bench/yjs-clients.ts to compare against:
//   node dist/bench/yjs/ref-server.js y-websocket-server|hocuspocus HOST PORT
// y-websocket-server: @y/websocket-server's setupWSConnection on ws (in memory, no persistence);
// hocuspocus: @hocuspocus/server with no extensions (in memory). Prints "listening" when ready.
import http from 'node:http';

const [kind, host, portText] = process.argv.slice(2);
const port = Number(portText);
if (kind === 'y-websocket-server') {
  const { WebSocketServer } = await import('ws');
  const { setupWSConnection } = (await import('@y/websocket-server/utils')) as { setupWSConnection: (conn: unknown, req: http.IncomingMessage) => void };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const server = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req)));
  server.listen(port, host, () => console.log('listening'));
} else if (kind === 'hocuspocus') {
  const { Server } = await import('@hocuspocus/server');
  const server = new Server({ port, address: host, quiet: true, stopOnSignals: true, websocketOptions: { maxPayload: 64 * 1024 * 1024 } });
  await server.listen();
  console.log('listening');
} else {
  console.error('usage: ref-server.js y-websocket-server|hocuspocus HOST PORT');
  process.exit(2);
}
