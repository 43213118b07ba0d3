import { describe, expect, it } from 'vitest';
import { SimWorld } from '../../src/sim/world.js';

describe('sim world', () => {
  it('runs events by time, then in scheduling order, and moves the clock', async () => {
    const world = new SimWorld();
    const trace: string[] = [];
    world.schedule(10, () => trace.push(`b@${world.now()}`));
    world.schedule(5, () => trace.push(`a@${world.now()}`));
    world.schedule(10, () => trace.push(`c@${world.now()}`));
    world.schedule(-3, () => trace.push(`now@${world.now()}`));
    await world.runFor(20);
    expect(trace).toEqual(['now@0', 'a@5', 'b@10', 'c@10']);
    expect(world.now()).toBe(20);
  });

  it('cancels, and cancelling twice is harmless', async () => {
    const world = new SimWorld();
    let fired = 0;
    const cancel = world.schedule(1, () => fired++);
    world.schedule(2, () => fired++);
    cancel();
    cancel();
    expect(world.pending).toBe(1);
    await world.runFor(5);
    expect(fired).toBe(1);
  });

  it('drains promise continuations before the clock moves on', async () => {
    const world = new SimWorld();
    const trace: string[] = [];
    const deep = async (depth: number): Promise<void> => {
      if (depth > 0) await deep(depth - 1);
      await Promise.resolve();
    };
    world.schedule(1, () => {
      void (async () => {
        await deep(20);
        trace.push(`continuation@${world.now()}`);
        world.schedule(0, () => trace.push(`follow-up@${world.now()}`));
      })();
    });
    world.schedule(2, () => trace.push(`next@${world.now()}`));
    await world.runFor(10);
    expect(trace).toEqual(['continuation@1', 'follow-up@1', 'next@2']);
  });

  it('step() runs one event synchronously', () => {
    const world = new SimWorld({ startMs: 100 });
    let ran = false;
    world.schedule(5, () => (ran = true));
    expect(world.step()).toBe(true);
    expect(ran).toBe(true);
    expect(world.now()).toBe(105);
    expect(world.step()).toBe(false);
  });

  it('runUntilSettled returns the value, or fails when the agenda cannot settle it', async () => {
    const world = new SimWorld();
    const later = new Promise<string>((resolve) => world.schedule(1000, () => resolve('done')));
    await expect(world.runUntilSettled(later, 5000)).resolves.toBe('done');
    expect(world.now()).toBe(1000);
    await expect(world.runUntilSettled(new Promise(() => {}), 100)).rejects.toThrow(/still pending/);
  });

  it('bounds a runaway timer loop', async () => {
    const world = new SimWorld();
    const loop = (): void => {
      world.schedule(0, loop);
    };
    loop();
    await expect(world.runFor(1, 10_000)).rejects.toThrow(/more than 10000 events/);
  });

  it('speed: 1M scheduled events (printed, not asserted)', async () => {
    // 1,000 "nodes" each rearming a timer with a pseudo-random period, as protocol timers do.
    // Every event lands on its own timestamp, the worst case for microtask draining.
    const n = 1_000_000;
    const load = (world: SimWorld) => {
      let ran = 0;
      let x = 12345;
      const tick = (): void => {
        ran++;
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        if (ran + world.pending < n) world.schedule(1 + (x % 1000) / 10, tick);
      };
      for (let i = 0; i < 1000; i++) world.schedule(i / 1000, tick);
      return () => ran;
    };
    const asyncWorld = new SimWorld();
    const asyncRan = load(asyncWorld);
    let start = performance.now();
    await asyncWorld.runFor(1e9);
    const asyncMs = performance.now() - start;
    const syncWorld = new SimWorld();
    const syncRan = load(syncWorld);
    start = performance.now();
    while (syncWorld.step()) {
      /* bounded: the load stops rearming at n events */
    }
    const syncMs = performance.now() - start;
    expect(asyncRan()).toBe(n);
    expect(syncRan()).toBe(n);
    const rate = (ms: number) => ((n / ms) * 1000 / 1e6).toFixed(2);
    console.log(
      `sim world, 1M events: runFor (draining microtasks at each of 1M distinct times) ${asyncMs.toFixed(0)} ms = ${rate(asyncMs)} M/s; ` +
        `step() only ${syncMs.toFixed(0)} ms = ${rate(syncMs)} M/s`,
    );
  });
});
