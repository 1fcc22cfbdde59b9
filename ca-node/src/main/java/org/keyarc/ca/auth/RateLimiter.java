package org.keyarc.ca.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Failure budgets in memory, one token bucket per key (a peer address, a secret's reference): {@code perMinute}
 * failures at once, refilled at {@code perMinute} a minute. A key with no token left is {@link #exhausted};
 * successful requests take nothing. Per node: several nodes each keep their own budgets (the lock-out of a
 * secret, which matters more, is in the store).
 */
public final class RateLimiter {
  /** Above this many keys, keys whose budget is full again are dropped. */
  static final int MAX_KEYS = 100_000;
  private static final long MINUTE_NANOS = 60_000_000_000L;

  private final int perMinute;
  private final LongSupplier nanos;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** A limiter on the system's monotonic clock. */
  public RateLimiter(int perMinute) {
    this(perMinute, System::nanoTime);
  }

  /** A limiter on {@code nanos} (a monotonic clock in nanoseconds; tests pass their own). */
  public RateLimiter(int perMinute, LongSupplier nanos) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("perMinute must be at least 1, not " + perMinute);
    }
    this.perMinute = perMinute;
    this.nanos = nanos;
  }

  private final class Bucket {
    private double tokens = perMinute;
    private long refilledAt = nanos.getAsLong();
    private long reportedAt = Long.MIN_VALUE;

    /** Tops up for the time passed; call with the monitor held. */
    private void refill(long now) {
      tokens = Math.min(perMinute, tokens + (now - refilledAt) * (double) perMinute / MINUTE_NANOS);
      refilledAt = now;
    }
  }

  /** True when {@code key} has no failure left in its budget. */
  public boolean exhausted(String key) {
    Bucket b = buckets.get(key);
    if (b == null) {
      return false;
    }
    synchronized (b) {
      b.refill(nanos.getAsLong());
      return b.tokens < 1;
    }
  }

  /** Takes one failure from {@code key}'s budget. */
  public void fail(String key) {
    Bucket b = buckets.get(key);
    if (b == null) {
      if (buckets.size() >= MAX_KEYS) {
        prune();
      }
      b = buckets.computeIfAbsent(key, k -> new Bucket());
    }
    synchronized (b) {
      b.refill(nanos.getAsLong());
      b.tokens = Math.max(0, b.tokens - 1);
    }
  }

  /**
   * True once per minute for an exhausted key: whether this refusal should be recorded (audited), so that a
   * flood of refused requests leaves one record a minute, not one each.
   */
  public boolean firstRefusalInWindow(String key) {
    Bucket b = buckets.get(key);
    if (b == null) {
      return false;
    }
    long now = nanos.getAsLong();
    synchronized (b) {
      if (b.reportedAt != Long.MIN_VALUE && now - b.reportedAt < MINUTE_NANOS) {
        return false;
      }
      b.reportedAt = now;
      return true;
    }
  }

  /** Drops keys whose budget is full again; if none is, all (the budgets then start over). */
  private void prune() {
    long now = nanos.getAsLong();
    buckets.values().removeIf(b -> {
      synchronized (b) {
        b.refill(now);
        return b.tokens >= perMinute;
      }
    });
    if (buckets.size() >= MAX_KEYS) {
      buckets.clear();
    }
  }

  /** How many keys have a budget in memory (for tests). */
  int size() {
    return buckets.size();
  }
}
