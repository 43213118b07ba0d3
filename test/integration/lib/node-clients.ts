// One NodeClient per node of a started cluster, connected on first use with the cluster's key and
// kept for the rest of the file (the replica-set suites ask each node many times).
import { readFileSync } from 'node:fs';
import { NodeClient } from '../../../src/client/node-client.js';
import type { TriCluster } from './tri-cluster.js';
import { waitFor } from './wait-for.js';

export class NodeClients {
  private readonly byName = new Map<string, NodeClient>();

  constructor(
    private readonly cluster: () => TriCluster,
    private readonly timeoutMs = 15_000,
  ) {}

  async get(name: string): Promise<NodeClient> {
    let k = this.byName.get(name);
    if (!k) {
      const c = this.cluster();
      k = await NodeClient.connect({ at: c.node(name).address, key: readFileSync(c.keyFile, 'utf8').trim(), timeoutMs: this.timeoutMs });
      this.byName.set(name, k);
    }
    return k;
  }

  /** Waits until every node of the cluster lists `voters` voters on one configuration. */
  async settledOn(voters: number, what: string): Promise<void> {
    await waitFor(
      what,
      async () => {
        const all = await Promise.all(this.cluster().nodes.map(async (n) => (await this.get(n.name)).status()));
        const ok = all.every((s) => s.voters.length === voters && s.quorum.configuration === all[0]!.quorum.configuration);
        return { ok, value: all, detail: all.map((s) => `${s.voters.length}@${s.quorum.configuration}`).join(' ') };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  /** Drops the client of a node that was killed (its connection is dead). */
  forget(name: string): void {
    this.byName.get(name)?.close().catch(() => undefined);
    this.byName.delete(name);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byName.values()].map((k) => k.close()));
    this.byName.clear();
  }
}
