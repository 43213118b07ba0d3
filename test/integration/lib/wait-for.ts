// Polls a condition until it holds or a deadline passes: tests wait on what the cluster reports,
// never on fixed sleeps. Bounded in time and in the number of attempts.

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Extra text for the failure message (node log tails and so on), computed only on failure. */
  diagnostics?: () => string;
}

/**
 * Calls `probe` until it returns `{ ok: true, value }`; on timeout throws an error naming what was
 * awaited, the last observation and the diagnostics.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<{ ok: boolean; value: T; detail?: string }>,
  opts: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 250;
  const maxAttempts = Math.ceil(opts.timeoutMs / interval) + 5;
  let last = 'never observed';
  for (let attempt = 0; attempt < maxAttempts && Date.now() - started < opts.timeoutMs; attempt++) {
    try {
      const r = await probe();
      if (r.ok) return r.value;
      last = r.detail ?? JSON.stringify(r.value);
    } catch (err) {
      last = `probe threw: ${(err as Error).message}`;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${Date.now() - started} ms waiting for ${what}\nlast observation: ${last}${opts.diagnostics ? '\n' + opts.diagnostics() : ''}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
