// Harness for real-process integration tests of `tri` (see tri-cluster.ts for a usage sketch).
export { TRI, REPO_ROOT, runTri, describeResult, assertBuilt, type CliResult } from './run-tri.js';
export { NodeProcess, httpGet, type MemberJson, type NodeStatus, type ExitInfo } from './node-process.js';
export { TriCluster, loopbackRange, memberMismatch, type ClusterOptions, type ExpectedMember } from './tri-cluster.js';
export { waitFor, sleep, type WaitOptions } from './wait-for.js';
export { useStartedCluster, type StartedClusterHooks } from './started-cluster.js';
