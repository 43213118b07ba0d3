// `--insecure` runs a cluster with no encryption and no authentication. That must never happen
// quietly, so the node logs this at warn level at start-up (and the CLI may print it on stderr).

export interface InsecureWarning {
  /** Structured fields for the JSON log line. */
  fields: { insecure: true; security: 'none'; listen: string };
  /** The message itself. */
  msg: string;
}

/** The loud log line for a node started with `--insecure`. `listen` is what it binds to. */
export function insecureWarning(listen: string): InsecureWarning {
  return {
    fields: { insecure: true, security: 'none', listen },
    msg:
      `INSECURE MODE: gossip and streams on ${listen} are PLAINTEXT and UNAUTHENTICATED. ` +
      'Anyone who can reach this port can read cluster traffic, join the cluster and run tasks. ' +
      'Use only for a throwaway test cluster on a trusted network; for anything else run ' +
      '`tri keys generate --out cluster.key` and start every node with --key-file cluster.key',
  };
}
