// The id of the episode a finished task leaves in its agent's memory: derived from the task id,
// not drawn at random, so the episode exists once per task. A run whose outcome was stored on its
// node but never acknowledged (the node was SIGKILLed or cut off) can be run again elsewhere;
// both runs then write the same map key and, once their updates merge, Yjs keeps one of them on
// every replica (the task table's fencing still keeps one recorded result).
import { createHash } from 'node:crypto';

/** 16 lowercase hex characters, the shape of every episode id. */
export function taskEpisodeId(taskId: string): string {
  return createHash('sha256').update(`task-episode/${taskId}`).digest('hex').slice(0, 16);
}
