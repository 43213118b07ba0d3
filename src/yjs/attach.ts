// Composition: the Yjs client endpoint on a real node's HTTP server (start-node.ts calls this).
import type { ClusterNode } from '../node/cluster-node.js';
import type { NodeHttpServer } from '../node/http-server.js';
import type { Keyring } from '../security/keyring.js';
import { YjsEndpoint } from './ws-endpoint.js';
import { YjsHub } from './yjs-hub.js';
import { roomPlacement } from './replica-rooms.js';

export function attachYjs(node: ClusterNode, http: NodeHttpServer, keyring: Keyring | undefined, maxDocBytes?: number): YjsHub {
  // On a node that is not a replica of an agent's memory, its clients get it as the replica set has it.
  const placement = roomPlacement(node.memoryService, node.world.runtime.logger.child({ component: 'yjs' }));
  const hub = new YjsHub({
    self: node.name,
    runtime: node.world.runtime,
    memory: node.memoryService,
    rpc: node.rpc,
    peers: () => node.swim.members().filter((m) => m.name !== node.name && (m.state === 'alive' || m.state === 'suspect')).map((m) => ({ name: m.name, address: m.address })),
    maxDocBytes,
    writable: () => node.gate.verdict().writable,
    load: placement.load,
    hold: placement.hold,
    refresh: placement.refresh,
  });
  const endpoint = new YjsEndpoint({ hub, keyring, log: node.world.runtime.logger.child({ component: 'yjs' }) });
  http.onUpgrade((req, socket, head) => endpoint.upgrade(req, socket, head));
  node.addStatus('yjs', () => ({
    clients: hub.clients,
    documents: hub.roomCount,
    connections: endpoint.connections,
    // Awareness goes only to members with clients on the document: relays sent/taken, and the interests known.
    awareness: { relaysSent: hub.relays.sent, relaysReceived: hub.relays.received, memberInterests: hub.interests },
    // Client updates relayed to members with clients on the document before they are stored, and their pushes not delivered twice.
    updates: { relaysSent: hub.relays.updatesSent, relayMessagesSent: hub.relays.relayMessagesSent, relaysReceived: hub.relays.updatesReceived, duplicatesSkipped: hub.relays.duplicatesSkipped },
  }));
  node.onStopped(() => {
    hub.stop();
    endpoint.close();
  });
  return hub;
}
