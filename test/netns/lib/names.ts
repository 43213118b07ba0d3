// Naming of everything the harness creates. Names embed the creating process id so that a
// later run can tell leftovers of a dead process (safe to delete) from a live run's (not ours).
// TRI_NETNS_PREFIX (letters, digits) sets another prefix, so parallel runs of several engineers on
// one machine keep apart (each run then sweeps only its own prefix's leftovers).
export const NAME_PREFIX = `${/^[a-z][a-z0-9]{0,7}$/.test(process.env.TRI_NETNS_PREFIX ?? '') ? process.env.TRI_NETNS_PREFIX : 'tri'}-`;

let counter = 0;

/** A fresh base name, unique within this machine while this process lives: `tri-<pid>-<n>`. */
export function nextBaseName(): string {
  counter += 1;
  return `${NAME_PREFIX}${process.pid}-${counter}`;
}

/** The pid encoded in a harness name, or undefined for names the harness did not make. */
export function ownerPid(name: string): number | undefined {
  if (!name.startsWith(NAME_PREFIX)) return undefined;
  const m = /^(\d+)-\d+/.exec(name.slice(NAME_PREFIX.length));
  return m ? Number(m[1]) : undefined;
}

/** True when no process with this pid exists (EPERM means it exists but is not ours). */
export function isPidDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
