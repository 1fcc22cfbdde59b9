package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * One unit of work's view of its audit chain's head (sequence number and hash of the last record). The first append
 * locks the head row and reads it; later appends of the same transaction (a group commit runs many units in one)
 * chain on from memory, and {@link #flush} writes the head once, before the commit, or before anything reads it.
 * A unit rolled back to its savepoint puts the cursor back with {@link #reset} to the {@link #mark} taken before it,
 * as the database puts back its rows.
 */
final class AuditCursor {
  /** Where the cursor stands: whether the row is locked, the head in memory, and whether the store lags behind it. */
  record Mark(boolean locked, long seq, String hash, boolean dirty) {
    @Override
    public String toString() {
      return "AuditCursor.Mark";
    }
  }

  private final String chain;
  private Mark at = new Mark(false, 0, null, false);

  AuditCursor(String chain) {
    this.chain = chain;
  }

  String chain() {
    return chain;
  }

  boolean locked() {
    return at.locked();
  }

  /** The head row was locked (SELECT ... FOR UPDATE) and read by this transaction: {@code seq} and {@code hash}. */
  void locked(long seq, String hash) {
    at = new Mark(true, seq, hash, false);
  }

  long seq() {
    return at.seq();
  }

  String hash() {
    return at.hash();
  }

  /** Record {@code seq} with {@code hash} was inserted: it is the head now (in memory until {@link #flush}). */
  void appended(long seq, String hash) {
    at = new Mark(at.locked(), seq, hash, true);
  }

  Mark mark() {
    return at;
  }

  void reset(Mark m) {
    at = m;
  }

  /** Writes the head the appends moved to, if they moved it; the row is locked by this transaction. */
  void flush(Connection c) throws SQLException {
    if (!at.dirty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE audit_chain SET seq = ?, hash = ? WHERE chain = ?")) {
      ps.setLong(1, at.seq());
      ps.setString(2, at.hash());
      ps.setString(3, chain);
      if (ps.executeUpdate() != 1) {
        throw new SQLException("the audit chain '" + chain + "' lost its head row inside the transaction");
      }
    }
    at = new Mark(at.locked(), at.seq(), at.hash(), false);
  }

  /** No secret here, but the head is the chain's integrity: it is not printed. */
  @Override
  public String toString() {
    return "AuditCursor[" + chain + "]";
  }
}
