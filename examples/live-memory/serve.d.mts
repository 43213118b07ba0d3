import type { Server } from 'node:http';
/** Starts the static server of the live-memory page. */
export function serve(opts?: { port?: number; host?: string }): Promise<Server>;
