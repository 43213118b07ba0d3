// Token buckets that cap how often a responder answers: per source address (one chatty or
// spoofed source cannot monopolise it) and globally (many sources together cannot turn it into
// a traffic generator). With replies never larger than requests this bounds reflection traffic
// to `global.refillPerSecond` small packets a second, whatever an attacker sends.
import type { Clock } from '../runtime/types.js';

export interface BucketConfig {
  /** Burst size: tokens a full bucket holds. */
  capacity: number;
  /** Tokens added per second, up to capacity. */
  refillPerSecond: number;
}

export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly config: BucketConfig,
    now: number,
  ) {
    if (!(config.capacity >= 1) || !(config.refillPerSecond >= 0)) {
      throw new RangeError(`token bucket needs capacity >= 1 and refill >= 0, got ${JSON.stringify(config)}`);
    }
    this.#tokens = config.capacity;
    this.#last = now;
  }

  /** Takes one token if there is one. `now` in ms; a clock that steps back adds nothing. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.config.capacity, this.#tokens + (elapsed * this.config.refillPerSecond) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface RateLimitConfig {
  perSource: BucketConfig;
  global: BucketConfig;
  /** Sources tracked at once (LRU); bounds memory under a spoofed-source flood. */
  maxSources: number;
}

/**
 * Defaults: one discovery run costs a responder `attempts` (3) replies, so a burst of 10 and 2 a
 * second per source leaves room for a few nodes starting behind one address at once; 50 a second
 * overall is far more than a LAN's worth of starting nodes and far less than anything that hurts
 * a network (replies are ~200 bytes: 10 KB/s at most).
 */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = {
  perSource: { capacity: 10, refillPerSecond: 2 },
  global: { capacity: 50, refillPerSecond: 50 },
  maxSources: 1024,
};

export type RateVerdict = 'ok' | 'source' | 'global';

export class RateLimiter {
  readonly #sources = new Map<string, TokenBucket>();
  readonly #global: TokenBucket;

  constructor(
    readonly config: RateLimitConfig,
    private readonly clock: Clock,
  ) {
    if (!Number.isInteger(config.maxSources) || config.maxSources < 1) {
      throw new RangeError(`rate limiter maxSources must be an integer >= 1, got ${config.maxSources}`);
    }
    this.#global = new TokenBucket(config.global, clock.now());
  }

  /** Spends one token of `source` and one global token, or says which limit refused. */
  take(source: string): RateVerdict {
    const now = this.clock.now();
    let bucket = this.#sources.get(source);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.config.perSource, now);
      if (this.#sources.size >= this.config.maxSources) {
        // Map iterates in insertion order; re-insertion below keeps the first key least recent.
        this.#sources.delete(this.#sources.keys().next().value as string);
      }
    }
    this.#sources.delete(source);
    this.#sources.set(source, bucket);
    // Per source first: a source over its own limit must not also drain the shared bucket.
    if (!bucket.take(now)) return 'source';
    if (!this.#global.take(now)) return 'global';
    return 'ok';
  }

  /** Sources currently tracked (bounded by maxSources). */
  get sources(): number {
    return this.#sources.size;
  }
}
