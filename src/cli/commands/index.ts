import type { Command } from 'commander';
import { registerKeys } from './keys.js';
import { registerTask } from './task.js';
import { registerCluster } from './cluster.js';
import { registerClusterBench } from './cluster-bench.js';
import { registerMemory } from './memory.js';
import { registerNode } from './node.js';
import { registerNodes } from './nodes.js';
import { registerFuzz } from './fuzz.js';

export function registerCommands(program: Command): void {
  registerNode(program);
  registerNodes(program);
  registerKeys(program);
  registerMemory(program);
  registerTask(program);
  registerCluster(program);
  registerClusterBench(program);
  registerFuzz(program);
}
