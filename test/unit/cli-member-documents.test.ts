// `tri nodes` DOCS (src/cli/member-documents.ts): each member answers for itself; one that fails,
// hangs, answers with another name, or that SWIM holds dead/left is null, never a failure of all.
import { describe, expect, it } from 'vitest';
import { documentsHeldByMember, type StatusClient } from '../../src/cli/member-documents.js';
import type { NodeStatusJson } from '../../src/client/node-client.js';
import type { MemberView } from '../../src/node/cluster-node.js';

const status = (name: string, memory: NodeStatusJson['memory']): NodeStatusJson =>
  ({ name, state: 'ACTIVE', nodeId: name, incarnation: 1, address: '127.0.22.1', voters: [], quorum: { writable: true, reachable: 1, voters: 1, tiebreaker: null, removed: [], learners: [], configuration: 1, pendingConfiguration: null }, tasks: {}, memory, members: [] });
const member = (name: string, address: string, swimState: MemberView['swimState'] = 'alive'): MemberView =>
  ({ name, address, port: 9999, rpcPort: 10000, role: 'hybrid', state: 'ACTIVE', swimState, incarnation: 1, rttMs: 1, slots: 16, freeSlots: 16, httpPort: 10080 }) as MemberView;

describe('documents held per member (tri nodes DOCS)', () => {
  it('takes each answer from the member itself; failures, hangs, impostors and dead members are null', async () => {
    const asked: string[] = [];
    let closed = 0;
    const answers: Record<string, () => Promise<NodeStatusJson>> = {
      '127.0.22.2:10000': () => Promise.resolve(status('b', { digest: 'x', documents: 9, agents: 7, documentsHeld: 4 })),
      '127.0.22.3:10000': () => Promise.reject(new Error('connection refused')),
      '127.0.22.4:10000': () => new Promise<NodeStatusJson>(() => undefined), // never answers
      '127.0.22.5:10000': () => Promise.resolve(status('someone-else', { digest: 'x', documents: 1, agents: 1, documentsHeld: 1 })),
      '127.0.22.6:10000': () => Promise.resolve(status('f', { digest: 'x', documents: 3, agents: 3 })), // an older node: documents only
      '[::1]:10000': () => Promise.resolve(status('v6', { digest: 'x', documents: 2, agents: 2, documentsHeld: 2 })),
    };
    const connect = (at: string): Promise<StatusClient> => {
      asked.push(at);
      const answer = answers[at];
      if (!answer) return Promise.reject(new Error(`unexpected ${at}`));
      return Promise.resolve({ status: answer, close: () => Promise.resolve(void closed++) });
    };
    const members = [
      member('a', '127.0.22.1'),
      member('b', '127.0.22.2'),
      member('c', '127.0.22.3'),
      member('d', '127.0.22.4'),
      member('e', '127.0.22.5'),
      member('f', '127.0.22.6'),
      member('v6', '::1'),
      member('gone', '127.0.22.7', 'dead'),
      member('left', '127.0.22.8', 'left'),
      member('unseen', ''),
    ];
    const held = await documentsHeldByMember(members, status('a', { digest: 'x', documents: 5, agents: 5, documentsHeld: 5 }), connect, 200);
    expect(Object.fromEntries(held)).toEqual({ a: 5, b: 4, c: null, d: null, e: null, f: 3, v6: 2 });
    // Not asked: itself (already answered), members SWIM holds dead or left, members with no address.
    expect(asked.sort()).toEqual(['127.0.22.2:10000', '127.0.22.3:10000', '127.0.22.4:10000', '127.0.22.5:10000', '127.0.22.6:10000', '[::1]:10000']);
    // Every client that settled is closed, a failed call's too (b, c, e, f, v6); the hung one when its call times out.
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(5);
  });
});
