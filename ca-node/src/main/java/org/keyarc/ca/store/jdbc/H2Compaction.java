package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.keyarc.ca.store.StoreException;

/**
 * The embedded H2 store's chunk compaction, run by the group-commit thread between commits.
 *
 * <p>H2's MVStore never overwrites a page: every commit writes a new chunk with every page it changed, and a chunk's
 * space is reused only once none of its pages is live any more. H2 moves the last live pages out of old chunks in its
 * background writer, and that thread does not run with {@code WRITE_DELAY=0} (H2 issue #442), which the node needs
 * so that each commit is on the disk before it is answered. Without this, the file grew by about 35 KB per
 * certificate for as long as the node ran (4.7 GB after 143,000 certificates), and each commit's cost with it.
 *
 * <p>{@link #run} asks H2 to rewrite, when the chunks' fill rate is under {@link #TARGET_FILL_RATE}%, at least
 * {@link #WRITE_LIMIT} bytes of the live pages of its emptiest chunks (H2's own
 * {@code MVStore.compact(targetFillRate, write)}, as its background writer calls it); the rewritten pages go out with
 * the next commit and the emptied chunks are freed after H2's retention time. It waits at most 10 ms for H2's store
 * lock and fails nothing: a compaction that cannot run now runs at the next call.
 */
final class H2Compaction {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(H2Compaction.class);

  /** Below this percentage of live data in the file's chunks, the emptiest chunks are rewritten. */
  static final int TARGET_FILL_RATE = 50;
  /** Bytes of live pages rewritten per call, at least. */
  static final int WRITE_LIMIT = 1 << 20;

  private final org.h2.mvstore.MVStore store;
  private boolean warned;

  private H2Compaction(org.h2.mvstore.MVStore store) {
    this.store = store;
  }

  /** The compaction of {@code dataSource}'s embedded H2 file store, or null for any other database (or in memory). */
  static H2Compaction of(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      if (c.isWrapperFor(org.h2.jdbc.JdbcConnection.class)
          && c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession() instanceof org.h2.engine.SessionLocal s
          && s.getDatabase().getStore() != null && s.getDatabase().getStore().getMvStore().getFileStore() != null
          && s.getDatabase().getStore().getMvStore().getFileStore().getFileName() != null) {
        return new H2Compaction(s.getDatabase().getStore().getMvStore());
      }
      return null;
    } catch (SQLException | RuntimeException e) {
      LOG.warn("the embedded store's file will not be compacted while the node runs: {}", StoreException.rootMessage(e));
      return null;
    }
  }

  /** One step of compaction; true if H2 rewrote a chunk. Never throws: a failure is logged once and skipped. */
  boolean run() {
    try {
      return !store.isClosed() && store.compact(TARGET_FILL_RATE, WRITE_LIMIT);
    } catch (RuntimeException e) {
      if (!warned) {
        warned = true;
        LOG.warn("compacting the embedded store's file failed (the store goes on; the file may grow): {}",
            StoreException.rootMessage(e));
      }
      return false;
    }
  }

  /** Percentage of live data in the file's chunks (H2's own figure). */
  int fillRate() {
    return store.getFileStore().getChunksFillRate();
  }

  /** The file's size in bytes. */
  long fileSize() {
    return store.getFileStore().size();
  }
}
