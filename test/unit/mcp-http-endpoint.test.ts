// The Streamable HTTP endpoint of `tri mcp` refuses before any MCP work: a wrong path (404), no
// or a wrong bearer token (401), another method than POST (405), a body over 4 MiB (413) or not
// JSON (400); with the token, an initialize request reaches the MCP server. On 127.0.19.80.
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMcpHttp } from '../../src/mcp/http-endpoint.js';
import { createMcpServer } from '../../src/mcp/server.js';
import type { NodeClient } from '../../src/client/node-client.js';

const TOKEN = 'unit-test-token-0123456789abcdef';
let http: Server;
let base: string;

beforeAll(async () => {
  // No node behind it: these requests never reach a tool.
  const noClient = (): Promise<NodeClient> => Promise.reject(new Error('no node in this test'));
  const started = await startMcpHttp({ host: '127.0.19.80', port: 0, token: TOKEN, server: () => createMcpServer('nowhere', noClient, '0.0.0') });
  http = started.server;
  base = `http://${started.address}`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
});

const post = (path: string, body: string, token = TOKEN) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });

it('refuses bad requests with the status that says why', async () => {
  expect((await post('/other', '{}')).status).toBe(404);
  expect((await post('/mcp', '{}', '')).status).toBe(401);
  expect((await post('/mcp', '{}', TOKEN.slice(1))).status).toBe(401);
  expect((await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  const big = await post('/mcp', JSON.stringify({ x: 'y'.repeat(5 * 1024 * 1024) })).catch((err: Error) => err);
  // Either the 413 arrives, or the server cut the upload off while it was still being sent.
  if (!(big instanceof Error)) expect(big.status).toBe(413);
  expect((await post('/mcp', 'not json')).status).toBe(400);
});

it('with the token, initialize reaches the MCP server', async () => {
  const r = await post('/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
  expect(r.status).toBe(200);
  const body = (await r.json()) as { result?: { serverInfo?: { name: string } } };
  expect(body.result?.serverInfo?.name).toBe('trinity-cluster');
});
