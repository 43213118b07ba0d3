// The terminal view of `tri cluster`: redraws members, states, slots, tasks, memory digests and
// gossip bytes per second every half second, with the scenario's latest lines below.
import type { ProcessCluster } from './process-cluster.js';
import { httpGetJson } from '../util/http-get.js';

interface NodeStatus {
  name: string;
  state: string;
  memory?: { digest: string; documents: number };
  gossip?: { bytesOut?: number };
  tasks?: Record<string, number>;
  members: Array<{ name: string; state: string; swimState: string; freeSlots: number; slots: number; rttMs: number | null }>;
}

export class LiveView {
  private readonly lines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastBytes = new Map<string, { at: number; bytes: number }>();
  private rates = new Map<string, number>();

  constructor(
    private readonly c: ProcessCluster,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  say(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 10) this.lines.shift();
  }

  start(): void {
    this.out.write('\x1b[?25l'); // hide the cursor while redrawing
    const tick = () => void this.draw().finally(() => (this.timer = setTimeout(tick, 500)));
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.out.write('\x1b[?25h\n');
  }

  private async draw(): Promise<void> {
    const statuses = await Promise.all(this.c.nodes.map((n) => fetchStatus(n.host)));
    const now = Date.now();
    const rows: string[] = [];
    rows.push(`trinity-cluster demo: ${this.c.size} nodes   dashboard http://${this.c.nodes[0]!.host}:10080/   Ctrl-C stops everything`);
    rows.push('');
    rows.push(pad(['NODE', 'STATE', 'SEES', 'SLOTS', 'MEMORY DIGEST', 'DOCS', 'GOSSIP B/S', 'TASKS']));
    this.c.nodes.forEach((n, i) => {
      const s = statuses[i];
      if (!s) {
        rows.push(pad([n.name, n.exitCode === null ? 'starting' : `exited (${n.exitCode})`, '-', '-', '-', '-', '-', '-']));
        return;
      }
      const out = s.gossip?.bytesOut ?? 0;
      const prev = this.lastBytes.get(n.name);
      if (prev && now > prev.at) this.rates.set(n.name, ((out - prev.bytes) * 1000) / (now - prev.at));
      this.lastBytes.set(n.name, { at: now, bytes: out });
      const alive = s.members.filter((m) => m.swimState === 'alive').length;
      const self = s.members.find((m) => m.name === s.name);
      const tasks = s.tasks ? Object.entries(s.tasks).map(([k, v]) => `${k}:${v}`).join(' ') : '-';
      rows.push(pad([n.name, s.state, `${alive}/${s.members.length}`, self ? `${self.freeSlots}/${self.slots}` : '-', s.memory?.digest.slice(0, 12) ?? '-', String(s.memory?.documents ?? '-'), (this.rates.get(n.name) ?? 0).toFixed(0), tasks]));
    });
    rows.push('');
    for (const l of this.lines) rows.push(`  ${l}`);
    this.out.write('\x1b[H\x1b[2J' + rows.join('\n') + '\n');
  }
}

async function fetchStatus(host: string): Promise<NodeStatus | undefined> {
  try {
    return await httpGetJson<NodeStatus>(`http://${host}:10080/status`, 400);
  } catch {
    return undefined;
  }
}

const WIDTHS = [6, 10, 6, 7, 15, 6, 11, 30];
function pad(cells: string[]): string {
  return cells.map((c, i) => c.padEnd(WIDTHS[i] ?? 10)).join(' ').trimEnd();
}
