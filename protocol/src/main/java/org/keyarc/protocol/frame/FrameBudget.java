package org.keyarc.protocol.frame;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes that unfinished large frames may hold across all connections of a listener, so that many peers each
 * sending most of a frame at the limit cannot fill the heap together (the per-connection frame limit alone allows
 * {@code connections x limit}). A frame of at most {@link #SMALL} bytes never needs any: ordinary requests go
 * through even while the budget is spent.
 */
public final class FrameBudget {
  /** Frames up to this size (64 KiB) are not counted. */
  public static final int SMALL = 64 * 1024;

  private final long capacity;
  private final AtomicLong used = new AtomicLong();

  /** A budget of {@code capacity} bytes (at least one frame of any size up to it). */
  public FrameBudget(long capacity) {
    if (capacity < SMALL) {
      throw new IllegalArgumentException("a frame budget must be at least " + SMALL + " bytes, not " + capacity);
    }
    this.capacity = capacity;
  }

  /** No limit (clients, tests). */
  public static FrameBudget unlimited() {
    return new FrameBudget(Long.MAX_VALUE);
  }

  /** Takes {@code bytes} from the budget; false, taking nothing, when that would go over it. */
  public boolean reserve(long bytes) {
    while (true) {
      long now = used.get();
      if (bytes > capacity - now) {
        return false;
      }
      if (used.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Gives back {@code bytes} taken by {@link #reserve}. */
  public void release(long bytes) {
    used.addAndGet(-bytes);
  }

  /** Bytes held now. */
  public long used() {
    return used.get();
  }

  public long capacity() {
    return capacity;
  }
}
