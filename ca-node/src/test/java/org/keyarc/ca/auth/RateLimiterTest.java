package org.keyarc.ca.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final RateLimiter limiter = new RateLimiter(3, now::get);

  private void advanceSeconds(long s) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(s));
  }

  @Test
  void aKeyIsExhaustedAfterItsBudgetAndRefillsOverAMinute() {
    assertFalse(limiter.exhausted("10.0.0.1"), "no failure yet");
    limiter.fail("10.0.0.1");
    limiter.fail("10.0.0.1");
    assertFalse(limiter.exhausted("10.0.0.1"));
    limiter.fail("10.0.0.1");
    assertTrue(limiter.exhausted("10.0.0.1"));
    assertFalse(limiter.exhausted("10.0.0.2"), "budgets are per key");
    advanceSeconds(19);
    assertTrue(limiter.exhausted("10.0.0.1"), "3 a minute: one back after 20 s");
    advanceSeconds(1);
    assertFalse(limiter.exhausted("10.0.0.1"));
    limiter.fail("10.0.0.1");
    assertTrue(limiter.exhausted("10.0.0.1"));
    advanceSeconds(600);
    limiter.fail("10.0.0.1");
    limiter.fail("10.0.0.1");
    assertFalse(limiter.exhausted("10.0.0.1"), "a long pause refills to the budget, not beyond");
    limiter.fail("10.0.0.1");
    assertTrue(limiter.exhausted("10.0.0.1"));
  }

  @Test
  void aTripIsReportedOncePerMinute() {
    for (int i = 0; i < 3; i++) {
      limiter.fail("k");
    }
    assertTrue(limiter.firstRefusalInWindow("k"));
    assertFalse(limiter.firstRefusalInWindow("k"));
    advanceSeconds(59);
    assertFalse(limiter.firstRefusalInWindow("k"));
    advanceSeconds(1);
    assertTrue(limiter.firstRefusalInWindow("k"));
    assertFalse(limiter.firstRefusalInWindow("unknown"), "a key without failures is never reported");
  }

  @Test
  void memoryIsBounded() {
    for (int i = 0; i < RateLimiter.MAX_KEYS + 10; i++) {
      limiter.fail("peer-" + i);
    }
    assertTrue(limiter.size() <= RateLimiter.MAX_KEYS, "size " + limiter.size());
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter(0));
  }
}
