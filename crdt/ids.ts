// Identifiers drawn from the injected randomness (never Math.random), so a simulated run that
// replays a seed creates the same episode ids and Yjs client ids, hence byte-identical updates.

/** Episode ids: 16 lowercase hex characters (64 bits), plenty to make concurrent collisions moot. */
export function randomHexId(random: () => number, length = 16): string {
  let id = '';
  for (let i = 0; i < length; i++) id += Math.floor(random() * 16).toString(16);
  return id;
}

/**
 * A Yjs client id. Yjs treats it as a uint32; 0 is avoided only to keep logs unambiguous.
 * Must be fresh for every Y.Doc instance that writes: reusing one after a restart would make
 * new structs collide with ones peers already hold. The one exception: a reloaded agent document
 * continues its retired instance's id (src/memory/agent-docs.ts ClientIdReuse).
 */
export function randomClientId(random: () => number): number {
  return 1 + Math.floor(random() * 0xfffffffe);
}
