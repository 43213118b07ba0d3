// Errors cross the wire by class name and message; the caller gets the same named class back so
// `instanceof QuorumError` and CLI exit codes work across nodes.
import * as errors from '../errors.js';

const known = new Map<string, new (message: string) => errors.TriError>(
  Object.entries(errors)
    .filter(([, v]) => typeof v === 'function' && (v === errors.TriError || v.prototype instanceof errors.TriError))
    .map(([k, v]) => [k, v as new (message: string) => errors.TriError]),
);

export function rebuildRemoteError(name: string, message: string): errors.TriError {
  const Cls = known.get(name) ?? errors.TriError;
  return new Cls(message);
}
