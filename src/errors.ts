// One named error class per failure kind (DESIGN.md "Errors"). Every class takes an optional
// `cause` so the original failure survives wrapping, and a message that says what was wrong and
// what to do about it. CLI exit codes are attached here so the CLI maps errors in one place.

export class TriError extends Error {
  /** Process exit code the CLI uses when this error ends a command. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line flags or arguments (exit 2). */
export class UsageError extends TriError {
  override readonly exitCode = 2;
}

/** Bad configuration given to the library (startNode options, profiles). */
export class ConfigError extends TriError {}

/** Bytes from the network or disk that do not decode; the input is dropped, nothing changes. */
export class DecodeError extends TriError {}

/** A packet or frame larger than the protocol allows. */
export class OversizeError extends DecodeError {}

/** A packet or frame that fails authentication (wrong key, tampered, replayed). */
export class AuthError extends TriError {}

/** A connection or request failed at the transport level (refused, reset, timed out). */
export class TransportError extends TriError {}

/** A request to a peer got no answer in time. */
export class TimeoutError extends TransportError {}

/** The node cannot reach a majority of voters: it is read-only and the write was not applied (exit 3). */
export class QuorumError extends TriError {
  override readonly exitCode = 3;
}

/** A write was applied locally but a majority did not acknowledge it in time (exit 4). */
export class WriteTimeoutError extends TriError {
  override readonly exitCode = 4;
}

/** An agent type that no node has registered. */
export class UnknownAgentTypeError extends TriError {}

/** A task id or episode id that does not exist. */
export class NotFoundError extends TriError {}

/** Storage failed (disk full, corrupt database, locked data directory). */
export class StorageError extends TriError {}

/** An operation on a node that has stopped or not started yet. */
export class NodeStoppedError extends TriError {}
