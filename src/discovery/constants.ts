/** UDP port discovery requests are broadcast to (DESIGN.md "Discovery"); shared with gossip's default. */
export const DISCOVERY_PORT = 9999;
