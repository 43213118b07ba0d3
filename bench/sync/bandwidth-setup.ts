// What the sync-bandwidth measurements share: the loopback addresses, the one agent document
// they write, and rounding.

export const HOSTS: [string, string, string, string] = ['127.0.9.1', '127.0.9.2', '127.0.9.3', '127.0.9.4'];
/** A realistic agent id: the document id is "agent/" + this. */
export const AGENT = 'planner-1';
export const DOC = `agent/${AGENT}`;

export const r1 = (x: number): number => Math.round(x * 10) / 10;
export const r2 = (x: number): number => Math.round(x * 100) / 100;
export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
