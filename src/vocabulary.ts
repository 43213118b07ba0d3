// The words every layer shares: a member's lifecycle as an operator sees it, and its role. A leaf
// module, so the quorum core, task routing and the simulator use them without importing src/node/.

/** DESIGN: a member reports ACTIVE/SYNCING/DEGRADED/LEAVING itself; FAILED and LEFT are what the cluster concluded. */
export const LIFECYCLE_STATES = [
  'DISCOVERING',
  'JOINING',
  'ACTIVE',
  'SYNCING',
  'DEGRADED',
  'LEAVING',
  'LEFT',
  'FAILED',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const ROLES = ['coordinator', 'worker', 'hybrid'] as const;
export type Role = (typeof ROLES)[number];

/** What an agent id may be (it names the agent's documents: 'agent/<id>', 'tasks/<id>'). */
export const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
