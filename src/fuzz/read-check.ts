// The read-after-write invariant (issue 21 items 4 and 9), for `read` steps of a fuzz run:
//   read-after-write  a read that starts after a write was acknowledged sees it.
// On a node that is not one of the agent's replicas, `refresh()` merges from a majority of the
// replica set first, so it must see every write acknowledged before it started, within what
// docs/replica-sets.md promises: the writer's configuration at most one step behind the reader's,
// the reader not restarted since (the previous configuration is kept in memory only), and no data
// directory wiped since. On a replica, reads are local (no majority read without consistency
// levels): they must see the writes acknowledged through that same node in its current life.
import type { SimCluster } from '../sim/cluster-sim.js';
import { Violation } from './invariants.js';

export interface AckedWrite {
  agent: string;
  id: string;
  via: number;
  /** The writer's configuration epoch and the virtual time when it resolved. */
  epoch: number;
  at: number;
}

export class ReadAfterWriteChecker {
  private readonly acked: AckedWrite[] = [];
  /** Virtual time node i's current life started (0: since the start). */
  private readonly lifeStart = new Map<number, number>();
  private lastWipe = -1;
  /** Reads that resolved and were checked. */
  checked = 0;

  constructor(
    private readonly c: SimCluster,
    /** Whether agent/id had a forget attempted (it may be gone: not checked). */
    private readonly forgetting: (agent: string, id: string) => boolean,
  ) {}

  acknowledged(agent: string, id: string, via: number): void {
    this.acked.push({ agent, id, via, epoch: this.c.node(via).gate.voterConfig().epoch, at: this.c.now() });
  }

  /** Node i starts a new life (restart, or a new member). */
  restarted(i: number): void {
    this.lifeStart.set(i, this.c.now());
  }

  wiped(): void {
    this.lastWipe = this.c.now();
  }

  /** A read of `agent` through node `i`: checks what it returns once it resolves. Never throws. */
  read(i: number, agent: string, onViolation: (v: Violation) => void): void {
    const node = this.c.node(i);
    const since = Math.max(this.lifeStart.get(i) ?? 0, this.lastWipe);
    const epoch = node.gate.voterConfig().epoch;
    const replica = node.memoryService.replicas.view.current().isReplica(`agent/${agent}`);
    const due = this.acked.filter((w) => w.agent === agent && (replica ? w.via === i && w.at >= since : w.at >= this.lastWipe && (w.epoch === epoch || w.epoch === epoch - 1) && (this.lifeStart.get(i) ?? 0) <= w.at));
    const started = this.c.now();
    node
      .memory(agent)
      .refresh()
      .then(
        (mem) => {
          if (this.c.node(i) !== node || this.c.isDown(i)) return;
          this.checked++;
          for (const w of due) {
            if (this.forgetting(agent, w.id) || mem.get(w.id)) continue;
            onViolation(
              new Violation(
                'read-after-write',
                `a read of ${agent} through n${i} (${replica ? 'a replica' : 'not a replica'}, configuration ${epoch}) started ${((started - w.at) / 1000).toFixed(1)} s after episode ${w.id} was acknowledged via n${w.via} (configuration ${w.epoch}) and does not see it`,
                this.c.now(),
              ),
            );
            return;
          }
        },
        () => undefined, // refused (no reachable majority) or timed out: no answer, nothing to check
      );
  }
}
