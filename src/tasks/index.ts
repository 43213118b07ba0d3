// The src/tasks surface the node uses: routing, the replicated task table and the scheduler.
export type { Candidate, NoCapacityReason, RouteChoice } from './candidates.js';
export { eligible, isEligible } from './candidates.js';
export { latencyCost, SERVICE_MS, DEFAULT_UNKNOWN_RTT_MS } from './cost.js';
export {
  STRATEGIES,
  DEFAULT_STRATEGY,
  LARGE_PAYLOAD_BYTES,
  isStrategy,
  route,
  chooseLocalFirst,
  chooseDataLocal,
  chooseLatencyAware,
  chooseBandwidthAware,
  chooseRoundRobin,
  chooseCheapest,
} from './routing.js';
export type { Strategy, RouteContext } from './routing.js';
export { ThroughputMeter, throughputSample, MIN_THROUGHPUT_SAMPLE_BYTES, THROUGHPUT_EWMA_ALPHA } from './routing-throughput.js';
export { TaskTable, DEFAULT_LEASE_MS } from './task-table.js';
export type { TaskTableOptions, LeaseRef } from './task-table.js';
export { DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, newTaskFromJson, validateNewTask } from './new-task.js';
export type { NewTask } from './new-task.js';
export type { Verdict, Refusal } from './fencing.js';
export type { Fence, TaskStatus, TaskState, TaskView } from './task-state.js';
export { TaskScheduler, jsonBytes } from './scheduler.js';
export type { SchedulerMember, SchedulerEffect, SchedulerOptions, RunTask, TickResult } from './scheduler.js';
export { TASK_SHARD_PREFIX, shardDocId, shardAgent, shardScheduler } from './task-shard.js';
