// What bounded residency and retention look like from outside: bytes of the data directory,
// documents held and resident, task-table entries, and what retention trimmed and forgot.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterNode } from './cluster-node.js';
import { tasksOf } from '../tasks/task-schema.js';

export function registerStorageMetrics(r: Registry, node: ClusterNode): void {
  new Gauge({
    name: 'tri_data_dir_bytes',
    help: 'Bytes of the data directory (database and write-ahead log); 0 without one',
    registers: [r],
    collect() {
      this.set(node.world.store.diskBytes?.() ?? 0);
    },
  });
  new Gauge({
    name: 'tri_documents',
    help: 'Replicated documents (agent memories and the task table): held in the store, and resident in memory',
    labelNames: ['where'],
    registers: [r],
    collect() {
      const docs = node.memoryService.docs;
      this.set({ where: 'held' }, docs.ids().length);
      this.set({ where: 'resident' }, docs.residentCount());
    },
  });
  new Gauge({
    name: 'tri_task_table_entries',
    help: 'Entries of the replicated task table (tasks, finished ones included, and trimmed-id records)',
    registers: [r],
    collect() {
      this.set(tasksOf(node.tasks.table.doc).size);
    },
  });
  new Counter({
    name: 'tri_retention_total',
    help: 'Retention work by this node since start: finished tasks trimmed, episodes forgotten by policy, documents reclaimed on disk',
    labelNames: ['what'],
    registers: [r],
    collect() {
      this.reset();
      this.inc({ what: 'tasks_trimmed' }, node.retention.trimmed);
      this.inc({ what: 'episodes_forgotten_by_policy' }, node.retention.memory.stats.forgottenByPolicy);
      this.inc({ what: 'documents_reclaimed' }, node.retention.memory.stats.reclaimed);
    },
  });
}
