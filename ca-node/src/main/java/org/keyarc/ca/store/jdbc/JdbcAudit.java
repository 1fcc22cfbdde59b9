package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.StoreException;

/**
 * {@link AuditStore} on JDBC: {@code audit_record} (keyed by chain and sequence number), {@code audit_chain} (one
 * head row a chain) and {@code audit_checkpoint} with {@code audit_checkpoint_head} (the heads each signs).
 */
final class JdbcAudit implements AuditStore {
  private static final String ROW = "SELECT id, chain, seq, at, actor, action, target, detail, prev_hash, hash "
      + "FROM audit_record ";

  /** How long appends waited for their chain's head row lock (in the node's registry through the global one). */
  private static final io.micrometer.core.instrument.Timer HEAD_WAIT = io.micrometer.core.instrument.Timer
      .builder("keyarc.audit.head.wait").description("time an audit append waited for its chain's head row lock")
      .register(io.micrometer.core.instrument.Metrics.globalRegistry);

  private final Connection c;
  private final String chain;
  private final AuditCursor cursor;

  /** {@code cursor}: the transaction's view of its chain's head, shared by every JdbcAudit of the transaction. */
  JdbcAudit(Connection c, AuditCursor cursor) {
    this.c = c;
    this.chain = cursor.chain();
    this.cursor = cursor;
  }

  /** Makes {@code chain}'s head row if the chain is new (no head, no records); see {@code JdbcStore#useAuditChain}. */
  static void create(Connection c, String chain) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_chain (chain, seq, hash) SELECT ?, 0, ? "
        + "WHERE NOT EXISTS (SELECT 1 FROM audit_chain WHERE chain = ?) "
        + "AND NOT EXISTS (SELECT 1 FROM audit_record WHERE chain = ?)")) {
      ps.setString(1, chain);
      ps.setString(2, AuditChain.genesis(chain));
      ps.setString(3, chain);
      ps.setString(4, chain);
      ps.executeUpdate();
    } catch (SQLException e) {
      // two nodes of the same name starting at once: one made it, which is all that was asked
      if (!exists(c, chain)) {
        throw StoreException.of(e);
      }
    }
  }

  private static boolean exists(Connection c, String chain) {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM audit_chain WHERE chain = ?")) {
      ps.setString(1, chain);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public String chain() {
    return chain;
  }

  @Override
  public long append(String actor, String action, String target, String detail, Instant at) throws StoreException {
    try {
      if (!cursor.locked()) {
        lockHead();
      }
      long seq = cursor.seq() + 1;
      String prev = cursor.hash();
      String hash = AuditChain.hash(seq, at.toEpochMilli(), actor, action, target, detail, prev);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_record (chain, seq, at, actor, action, "
          + "target, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)")) {
        ps.setString(1, chain);
        ps.setLong(2, seq);
        ps.setLong(3, at.toEpochMilli());
        ps.setString(4, actor);
        ps.setString(5, action);
        ps.setString(6, target);
        ps.setString(7, detail);
        ps.setString(8, prev);
        ps.setString(9, hash);
        ps.executeUpdate();
        cursor.appended(seq, hash); // the head row is written once, before the commit (AuditCursor.flush)
      }
      return seq;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  /**
   * Locks this chain's head row until commit and reads it into the cursor, in one statement (a unit that catches a
   * failure here and appends again locks and reads again, no harm done): appends to one chain are serialised, the
   * chain stays linear. The time this takes is the wait for other transactions on the same chain to commit
   * (keyarc_audit_head_wait, once per transaction); other nodes append to their own chains and do not wait here.
   */
  private void lockHead() throws SQLException, StoreException {
    long start = System.nanoTime();
    try (PreparedStatement ps = c.prepareStatement("SELECT seq, hash FROM audit_chain WHERE chain = ? FOR UPDATE")) {
      ps.setString(1, chain);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new StoreException("the audit chain '" + chain + "' has no head in the store (it was removed): "
              + "nothing can be audited, so nothing is done; run 'keyarc audit verify'");
        }
        HEAD_WAIT.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        cursor.locked(rs.getLong(1), rs.getString(2));
      }
    }
  }

  /** Writes the head this transaction's appends moved to, before anything reads the head row. */
  private void flushed() throws StoreException {
    try {
      cursor.flush(c);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Head head() throws StoreException {
    flushed();
    try (PreparedStatement ps = c.prepareStatement("SELECT chain, seq, hash FROM audit_chain WHERE chain = ?")) {
      ps.setString(1, chain);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new StoreException("the audit chain '" + chain + "' has no head in the store (it was removed)");
        }
        return new Head(rs.getString(1), rs.getLong(2), rs.getString(3));
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Head> heads() throws StoreException {
    List<Head> out = new ArrayList<>();
    flushed();
    try (PreparedStatement ps = c.prepareStatement("SELECT chain, seq, hash FROM audit_chain ORDER BY chain");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Head(rs.getString(1), rs.getLong(2), rs.getString(3)));
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> records(String chain, long from, long to) throws StoreException {
    return rows(ROW + "WHERE chain = ? AND seq >= ? AND seq <= ? ORDER BY seq", List.of(chain, from, to));
  }

  @Override
  public List<String> recordChains() throws StoreException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT chain FROM audit_record ORDER BY chain");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private List<Row> rows(String sql, List<Object> args) throws StoreException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), rs.getString(2), rs.getLong(3), Instant.ofEpochMilli(rs.getLong(4)),
              rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Checkpoint> checkpoint(long num) throws StoreException {
    List<Checkpoint> l = checkpoints("WHERE num = ?", num);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  @Override
  public void insertCheckpoint(Checkpoint cp) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint (num, version, at, key_label, "
        + "prev_num, signature) VALUES (?,?,?,?,?,?)")) {
      ps.setLong(1, cp.num());
      ps.setInt(2, cp.version());
      ps.setLong(3, cp.at().toEpochMilli());
      ps.setString(4, cp.keyLabel());
      ps.setLong(5, cp.prevNum());
      ps.setBytes(6, cp.signature());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint_head (num, chain, seq, hash) "
        + "VALUES (?,?,?,?)")) {
      for (Head h : cp.heads()) {
        ps.setLong(1, cp.num());
        ps.setString(2, h.chain());
        ps.setLong(3, h.seq());
        ps.setString(4, h.hash());
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Checkpoint> checkpointsAfter(long num) throws StoreException {
    return checkpoints("WHERE num > ?", num);
  }

  @Override
  public List<Checkpoint> checkpoints() throws StoreException {
    return checkpoints("");
  }

  private List<Checkpoint> checkpoints(String where, Object... args) throws StoreException {
    record Top(long num, int version, Instant at, String label, long prevNum, byte[] sig) {}
    Map<Long, Top> tops = new LinkedHashMap<>();
    Map<Long, List<Head>> heads = new java.util.HashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT num, version, at, key_label, prev_num, signature "
        + "FROM audit_checkpoint " + where + " ORDER BY num")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tops.put(rs.getLong(1), new Top(rs.getLong(1), rs.getInt(2), Instant.ofEpochMilli(rs.getLong(3)),
              rs.getString(4), rs.getLong(5), rs.getBytes(6)));
        }
      }
      if (tops.isEmpty()) {
        return List.of();
      }
      String in = where.isEmpty() ? "" : " WHERE num IN (SELECT num FROM audit_checkpoint " + where + ")";
      try (PreparedStatement hs = c.prepareStatement("SELECT num, chain, seq, hash FROM audit_checkpoint_head" + in
          + " ORDER BY num, chain")) {
        for (int i = 0; i < args.length; i++) {
          hs.setObject(i + 1, args[i]);
        }
        try (ResultSet rs = hs.executeQuery()) {
          while (rs.next()) {
            heads.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new Head(rs.getString(2), rs.getLong(3),
                rs.getString(4)));
          }
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
    List<Checkpoint> out = new ArrayList<>();
    for (Top t : tops.values()) {
      out.add(new Checkpoint(t.num(), t.version(), t.at(), t.label(), t.prevNum(), heads.getOrDefault(t.num(),
          List.of()), t.sig()));
    }
    return out;
  }

  @Override
  public Optional<Checkpoint> lastCheckpoint() throws StoreException {
    List<Checkpoint> l = checkpoints("WHERE num = (SELECT MAX(num) FROM audit_checkpoint)");
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  @Override
  public List<Row> records(long fromId, Instant since, Instant until, String action, String actor, String target,
      int limit) throws StoreException {
    StringBuilder sql = new StringBuilder(ROW + "WHERE id >= ?");
    List<Object> args = new ArrayList<>(List.of(fromId));
    if (since != null) {
      sql.append(" AND at >= ?");
      args.add(since.toEpochMilli());
    }
    if (until != null) {
      sql.append(" AND at <= ?");
      args.add(until.toEpochMilli());
    }
    if (action != null) {
      sql.append(" AND action = ?");
      args.add(action);
    }
    if (actor != null) {
      sql.append(" AND actor = ?");
      args.add(actor);
    }
    if (target != null) {
      sql.append(" AND target = ?");
      args.add(target);
    }
    sql.append(" ORDER BY id LIMIT ?");
    args.add(limit);
    return rows(sql.toString(), args);
  }

  @Override
  public Optional<String> lastDetail(String action) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT detail FROM audit_record WHERE action = ? "
        + "ORDER BY id DESC LIMIT 1")) {
      ps.setString(1, action);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
