// Worker thread of AgentDecoder (agent-decoder.ts): decodes one stored agent document per
// request and posts its episodes back in chunks, then the digest; an error is posted, never thrown.
import { parentPort } from 'node:worker_threads';
import { decodeAgent } from './agent-decode.js';
import type { DecodeReply, DecodeRequest } from './agent-decoder.js';

const port = parentPort;
if (!port) throw new Error('agent-decode-worker.js runs as a worker thread (AgentDecoder starts it)');
port.on('message', (m: DecodeRequest) => {
  const post = (r: DecodeReply): void => port.postMessage(r);
  try {
    const done = decodeAgent(m.docId, m.parts, (json) => post({ job: m.job, chunk: json }));
    post({ job: m.job, done });
  } catch (err) {
    post({ job: m.job, error: (err as Error)?.message ?? String(err) });
  }
});
