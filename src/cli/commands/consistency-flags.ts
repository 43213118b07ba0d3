// --consistency of the memory commands: the write levels of the commands that write, the read
// levels of `show` and `recall` (src/memory/consistency.ts).
import { READ_LEVELS, WRITE_LEVELS } from '../../memory/consistency.js';
import { parseChoice } from '../parse.js';

export const WRITE_LEVEL_HELP = "majority (default: a majority of the agent's replica set stored it durably) or all (every replica of the set: exit 3 at once when one is unreachable, 4 when one does not acknowledge in time)";
export const READ_LEVEL_HELP = 'local (default: what the node holds; a node holding no copy merges from a majority of the replica set first) or majority (merge from a majority of the replica set first, on a replica too: sees every write acknowledged anywhere)';
export const writeLevel = parseChoice(WRITE_LEVELS);
export const readLevel = parseChoice(READ_LEVELS);
