// The error classes live in the leaf module errors/ (the protocol cores gossip/ and crdt/ use
// them too, and import nothing from src/); this re-export keeps src's imports short.
export * from '../errors/index.js';
