// Placeholder until src/discovery lands: broadcast discovery finds no seeds.
import type { Logger } from '../runtime/types.js';
export async function discoverSeeds(_o: { bind: string; gossipPort: number; key?: string; insecure: boolean; logger: Logger }): Promise<string[]> {
  return [];
}
