// /metrics in Prometheus text format through prom-client. One registry per node (several nodes
// may share a process), and values are read from the components' own counters at scrape time
// (collect callbacks), so the hot paths pay nothing for metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerStorageMetrics } from './metrics-storage.js';
import type { ClusterNode } from './cluster-node.js';
import type { Route } from './http-server.js';

const SWIM_COUNTERS = ['probes', 'probeFailures', 'acks', 'nacks', 'indirectProbes', 'suspicions', 'confirmations', 'refutations', 'deaths', 'leaves', 'droppedMalformed', 'pushPulls'];

export class NodeMetrics {
  readonly registry = new Registry();
  readonly writeLatency: Histogram<'outcome'>;
  private readonly refusedWrites: Counter;

  constructor(node: ClusterNode) {
    const r = this.registry;
    r.setDefaultLabels({ node: node.name });
    // Process RSS, heap, event-loop lag, GC and handles, as every Node.js exporter has them.
    collectDefaultMetrics({ register: r });
    registerStorageMetrics(r, node);
    new Gauge({
      name: 'tri_members',
      help: 'Members by lifecycle state, as this node sees them',
      labelNames: ['state'],
      registers: [r],
      collect() {
        this.reset();
        for (const m of node.members()) this.inc({ state: m.state });
      },
    });
    new Counter({
      name: 'tri_gossip_events_total',
      help: 'SWIM protocol events since start (probes, suspicions, refutations, ...)',
      labelNames: ['event'],
      registers: [r],
      collect() {
        this.reset(); // a counter read from the component's own running total
        const s = node.swim.stats();
        for (const k of SWIM_COUNTERS) this.inc({ event: k }, s[k] ?? 0);
      },
    });
    new Counter({
      name: 'tri_bytes_total',
      help: 'Bytes on the wire by plane, message kind and direction',
      labelNames: ['plane', 'kind', 'direction'],
      registers: [r],
      collect() {
        this.reset(); // a counter read from the component's own running total
        const g = node.swim.stats();
        this.inc({ plane: 'gossip', kind: 'all', direction: 'out' }, g.bytesOut ?? 0);
        this.inc({ plane: 'gossip', kind: 'all', direction: 'in' }, g.bytesIn ?? 0);
        const s = node.memoryService.engine.stats();
        for (const [kind, c] of Object.entries(s.sent)) this.inc({ plane: 'sync', kind, direction: 'out' }, c?.bytes ?? 0);
        for (const [kind, c] of Object.entries(s.received)) this.inc({ plane: 'sync', kind, direction: 'in' }, c?.bytes ?? 0);
        const rpc = node.rpc.stats;
        this.inc({ plane: 'rpc', kind: 'all', direction: 'out' }, rpc.bytesOut);
        this.inc({ plane: 'rpc', kind: 'all', direction: 'in' }, rpc.bytesIn);
      },
    });
    new Counter({
      name: 'tri_sync_messages_total',
      help: 'Sync engine messages by kind (anti-entropy rounds are ae-root messages)',
      labelNames: ['kind', 'direction'],
      registers: [r],
      collect() {
        this.reset(); // a counter read from the component's own running total
        const s = node.memoryService.engine.stats();
        for (const [kind, c] of Object.entries(s.sent)) this.inc({ kind, direction: 'out' }, c?.messages ?? 0);
        for (const [kind, c] of Object.entries(s.received)) this.inc({ kind, direction: 'in' }, c?.messages ?? 0);
      },
    });
    new Gauge({
      name: 'tri_quorum',
      help: 'Quorum: writable (1/0), reachable voters and total voters',
      labelNames: ['what'],
      registers: [r],
      collect() {
        const v = node.gate.verdict();
        this.set({ what: 'writable' }, v.writable ? 1 : 0);
        this.set({ what: 'reachable' }, v.reachable);
        this.set({ what: 'voters' }, v.total);
      },
    });
    new Gauge({
      name: 'tri_memory_documents',
      help: 'Agent memory documents held by this node',
      registers: [r],
      collect() {
        this.set(node.memoryService.digest().documents);
      },
    });
    // This node's share under replica sets (/status memory.bytesHeld, documentsMoving).
    new Gauge({
      name: 'tri_memory_bytes_held',
      help: 'Bytes of replicated documents this node stores (snapshots and logs)',
      registers: [r],
      collect() {
        this.set(node.memoryService.replicas.status().bytesHeld);
      },
    });
    new Gauge({
      name: 'tri_memory_documents_moving',
      help: 'Agent documents this node holds but is not a replica of (being handed off to their replica set)',
      registers: [r],
      collect() {
        this.set(node.memoryService.replicas.status().documentsMoving);
      },
    });
    new Gauge({
      name: 'tri_replica_questions_refused',
      help: 'Hold-check and move-done questions from other members refused (non-member, other configuration, not a replica); nothing changed',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        for (const [reason, n] of Object.entries(node.memoryService.replicas.status().peerRefused)) this.set({ reason }, n);
      },
    });
    new Gauge({
      name: 'tri_tasks',
      help: 'Tasks in the replicated task table by status',
      labelNames: ['status'],
      registers: [r],
      collect() {
        this.reset();
        for (const [status, n] of Object.entries(node.taskCounts())) this.set({ status }, n);
      },
    });
    this.writeLatency = new Histogram({
      name: 'tri_write_latency_seconds',
      help: 'Memory write latency until a majority acknowledged (or it failed)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.refusedWrites = new Counter({ name: 'tri_writes_refused_total', help: 'Writes refused because this node had no quorum', registers: [r] });
    node.memoryService.onWrite((ms, outcome) => {
      if (outcome === 'refused') this.refusedWrites.inc();
      else this.writeLatency.observe({ outcome }, ms / 1000);
    });
  }

  route(): Route {
    return async () => ({ type: this.registry.contentType, body: await this.registry.metrics() });
  }
}
