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
  chooseLatencyAware,
  chooseBandwidthAware,
  chooseRoundRobin,
  chooseCheapest,
} from './routing.js';
export type { Strategy, RouteContext } from './routing.js';
export { TaskTable, DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS } from './task-table.js';
export type { NewTask, TaskTableOptions, Verdict, Refusal, LeaseRef } from './task-table.js';
export type { Fence, TaskStatus, TaskState, TaskView } from './task-state.js';
export { TaskScheduler, jsonBytes } from './scheduler.js';
export type { SchedulerMember, SchedulerEffect, SchedulerOptions, RunTask, TickResult } from './scheduler.js';
