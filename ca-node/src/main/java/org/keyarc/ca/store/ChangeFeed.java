package org.keyarc.ca.store;

import java.time.Duration;
import java.util.Set;

/**
 * What other nodes commit to the store, announced as they commit: on PostgreSQL a {@code LISTEN} on its own
 * connection for the {@code NOTIFY} each change of templates or CA keys sends in its unit of work (so it arrives
 * only if that commits). The nodes' periodic refreshes stay as the fallback; this makes another node's change
 * count at once instead of at the next refresh. The embedded store, which one node opens, has none.
 */
public interface ChangeFeed extends AutoCloseable {
  /** The template definitions or their seal changed. */
  String TEMPLATES = "templates";
  /** A CA key (exchange, CMP responder, OCSP signer) was added, renewed or retired. */
  String KEYS = "keys";
  /** Every topic: what a feed reports after it lost its connection (changes may have been missed meanwhile). */
  Set<String> ALL = Set.of(TEMPLATES, KEYS);

  /** No changes ever (the embedded store). */
  ChangeFeed NONE = new ChangeFeed() {
    @Override
    public Set<String> await(Duration max) throws InterruptedException {
      Thread.sleep(max.toMillis());
      return Set.of();
    }

    @Override
    public boolean live() {
      return false;
    }

    @Override
    public void close() {}
  };

  /** The topics announced since the last call, waiting up to {@code max} for the first; empty when none came. */
  Set<String> await(Duration max) throws InterruptedException;

  /** False for {@link #NONE}: nothing will ever arrive. */
  default boolean live() {
    return true;
  }

  @Override
  void close();
}
