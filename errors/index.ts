// One named error class per failure kind (DESIGN.md "Errors"). Every class takes an optional
// `cause` so the original failure survives wrapping, and a message that says what was wrong and
// what to do about it. CLI exit codes and stable machine codes (`code`, e.g. TRI_QUORUM: scripts
// and callers match on it, never on the message) are attached here, so they are mapped in one place.

export class TriError extends Error {
  /** Process exit code the CLI uses when this error ends a command. */
  readonly exitCode: number = 1;
  /** Stable machine code: the same across versions and across the wire. */
  readonly code: string = 'TRI_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Data a caller can act on besides the message (QuorumError: voters reachable of how many). */
  data(): Record<string, unknown> {
    return {};
  }

  /** The error as `--json` output and logs show it: code, name, message and data. */
  toJSON(): { code: string; name: string; message: string } & Record<string, unknown> {
    return { code: this.code, name: this.name, message: this.message, ...this.data() };
  }
}

/** Bad command-line flags or arguments (exit 2). */
export class UsageError extends TriError {
  override readonly exitCode = 2;
  override readonly code: string = 'TRI_USAGE';
}

/** Bad configuration given to the library (startNode options, profiles). */
export class ConfigError extends TriError {
  override readonly code: string = 'TRI_CONFIG';
}

/** Bytes from the network or disk that do not decode; the input is dropped, nothing changes. */
export class DecodeError extends TriError {
  override readonly code: string = 'TRI_DECODE';
}

/** A packet or frame larger than the protocol allows. */
export class OversizeError extends DecodeError {
  override readonly code: string = 'TRI_OVERSIZE';
}

/** A packet or frame that fails authentication (wrong key, tampered, replayed). */
export class AuthError extends TriError {
  override readonly code: string = 'TRI_AUTH';
}

/** A connection or request failed at the transport level (refused, reset, timed out). */
export class TransportError extends TriError {
  override readonly code: string = 'TRI_TRANSPORT';
}

/** A request to a peer got no answer in time. */
export class TimeoutError extends TransportError {
  override readonly code: string = 'TRI_TIMEOUT';
}

/** The node cannot reach a majority of voters: it is read-only and the write was not applied (exit 3). */
export class QuorumError extends TriError {
  override readonly exitCode = 3;
  override readonly code: string = 'TRI_QUORUM';
  /** Voters this node reached, of how many (undefined when the message did not say: an older node). */
  readonly reachable: number | undefined;
  readonly voters: number | undefined;
  /** The replica set that had no reachable majority, when the refusal was one agent's (counts are then of it). */
  readonly replicas: string[] | undefined;

  constructor(message: string, options?: { cause?: unknown; reachable?: number; voters?: number; replicas?: string[] }) {
    super(message, options);
    const set = REPLICA_SET.exec(message);
    this.replicas = options?.replicas ?? (set ? set[1]!.split(',').filter((n) => n.length > 0) : undefined);
    // Across the wire only the message travels: it ends with the counts in a fixed form (QUORUM_COUNTS).
    const m = QUORUM_COUNTS.exec(message);
    this.reachable = options?.reachable ?? (m ? Number(m[1]) : undefined);
    this.voters = options?.voters ?? (m ? Number(m[2]) : undefined);
  }

  /** The fixed clause a QuorumError message ends with, which a remote caller reads the counts from. */
  static counts(reachable: number, voters: number): string {
    return `(${reachable} of ${voters} voters reachable)`;
  }

  /** The fixed clause naming a replica set, which a remote caller reads it from (names never hold commas or spaces). */
  static replicaSet(replicas: readonly string[]): string {
    return `[replicas ${replicas.join(',')}]`;
  }

  override data(): Record<string, unknown> {
    return { reachable: this.reachable ?? null, voters: this.voters ?? null, ...(this.replicas ? { replicas: this.replicas } : {}) };
  }
}

const QUORUM_COUNTS = /\((\d{1,9}) of (\d{1,9}) voters reachable\)$/;
const REPLICA_SET = /\[replicas ([^\]\s]{1,4000})\]/;

/** A write was applied locally but a majority did not acknowledge it in time (exit 4). */
export class WriteTimeoutError extends TriError {
  override readonly exitCode = 4;
  override readonly code: string = 'TRI_WRITE_TIMEOUT';
}

/** An agent type that no node has registered. */
export class UnknownAgentTypeError extends TriError {
  override readonly code: string = 'TRI_UNKNOWN_AGENT_TYPE';
}

/** A task id or episode id that does not exist. */
export class NotFoundError extends TriError {
  override readonly code: string = 'TRI_NOT_FOUND';
}

/** Storage failed (disk full, corrupt database, locked data directory). */
export class StorageError extends TriError {
  override readonly code: string = 'TRI_STORAGE';
}

/** An operation on a node that has stopped or not started yet. */
export class NodeStoppedError extends TriError {
  override readonly code: string = 'TRI_NODE_STOPPED';
}

/** A second node under the name of a live member: refused at join (a name is one node). */
export class NameConflictError extends ConfigError {
  override readonly code: string = 'TRI_NAME_CONFLICT';
}
