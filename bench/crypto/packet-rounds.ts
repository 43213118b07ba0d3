// The timed-round machinery crypto-cost's packet benchmarks share: a flow-controlled window of
// packets in flight, process CPU per round, and the per-round log kept in the JSON.

export interface Round {
  pps: number;
  cpuUsPerPacket: number;
}

const WINDOW = 32;

/**
 * Keeps WINDOW packets in flight for `ms`: `send` puts one on the wire; `attach(answered)` installs
 * the receive side, which calls answered() per packet that completes, and returns a detach. A
 * packet lost on loopback would stall the window; a watchdog reopens it. Returns the elapsed time
 * and the process CPU used (user + system, so syscalls count).
 */
export function windowedRound(ms: number, send: () => void, attach: (answered: () => void) => () => void): Promise<{ ns: number; cpuUs: number }> {
  let inFlight = 0;
  let running = true;
  let lastReceive = Date.now();
  return new Promise((resolve) => {
    const pump = (): void => {
      while (running && inFlight < WINDOW) {
        send();
        inFlight++;
      }
    };
    const detach = attach(() => {
      inFlight--;
      lastReceive = Date.now();
      pump();
    });
    const watchdog = setInterval(() => {
      if (running && Date.now() - lastReceive > 50) {
        inFlight = 0;
        lastReceive = Date.now();
        pump();
      }
    }, 25);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    pump();
    setTimeout(() => {
      running = false;
      const ns = Number(process.hrtime.bigint() - t0);
      const cpu = process.cpuUsage(cpu0);
      clearInterval(watchdog);
      detach();
      // Let stragglers drain before the next round.
      setTimeout(() => resolve({ ns, cpuUs: cpu.user + cpu.system }), 50);
    }, ms);
  });
}

/** Per-round figures, so a reader of the JSON can see the spread behind each median. */
export type RoundLog = Record<string, { insecure: Round[]; encrypted: Round[] }>;

export function logRounds(into: RoundLog, id: string, plain: Round[], sealed: Round[]): void {
  const r = (xs: Round[]): Round[] => xs.map((x) => ({ pps: Math.round(x.pps), cpuUsPerPacket: round2(x.cpuUsPerPacket) }));
  into[id] = { insecure: r(plain), encrypted: r(sealed) };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
