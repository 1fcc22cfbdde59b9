package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.StoreException;

/** {@link AuditStore} on JDBC: {@code audit_record}, {@code audit_head} (one row) and {@code audit_checkpoint}. */
final class JdbcAudit implements AuditStore {
  private final Connection c;

  /** How long appends waited for the audit head's row lock (in the node's registry through the global one). */
  private static final io.micrometer.core.instrument.Timer HEAD_WAIT = io.micrometer.core.instrument.Timer
      .builder("keyarc.audit.head.wait").description("time an audit append waited for the audit_head row lock")
      .register(io.micrometer.core.instrument.Metrics.globalRegistry);

  JdbcAudit(Connection c) {
    this.c = c;
  }

  @Override
  public long append(String actor, String action, String target, String detail, Instant at) throws StoreException {
    try {
      // Locks the head row until commit: appends are serialised, the chain stays linear. The time this takes is
      // mostly the wait for other units of work, on this node or another, to commit (keyarc_audit_head_wait).
      long start = System.nanoTime();
      try (PreparedStatement lock = c.prepareStatement("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")) {
        lock.executeUpdate();
      }
      HEAD_WAIT.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      Head head = head();
      long seq = head.seq();
      String prev = head.hash();
      String hash = AuditChain.hash(seq, at.toEpochMilli(), actor, action, target, detail, prev);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_record (seq, at, actor, action, target, "
          + "detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)")) {
        ps.setLong(1, seq);
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, actor);
        ps.setString(4, action);
        ps.setString(5, target);
        ps.setString(6, detail);
        ps.setString(7, prev);
        ps.setString(8, hash);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE audit_head SET hash = ? WHERE id = 1")) {
        ps.setString(1, hash);
        ps.executeUpdate();
      }
      return seq;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Head head() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT seq, hash FROM audit_head WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return new Head(rs.getLong(1), rs.getString(2));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> records(long from, long to) throws StoreException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, actor, action, target, detail, prev_hash, hash "
        + "FROM audit_record WHERE seq >= ? AND seq <= ? ORDER BY seq")) {
      ps.setLong(1, from);
      ps.setLong(2, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Checkpoint> checkpointAt(long seq) throws StoreException {
    List<Checkpoint> l = checkpoints("WHERE seq = ?", seq);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  @Override
  public void insertCheckpoint(Checkpoint cp) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO audit_checkpoint (seq, hash, at, key_label, signature, version, prev_seq) VALUES (?,?,?,?,?,?,?)")) {
      ps.setLong(1, cp.seq());
      ps.setString(2, cp.hash());
      ps.setLong(3, cp.at().toEpochMilli());
      ps.setString(4, cp.keyLabel());
      ps.setBytes(5, cp.signature());
      ps.setInt(6, cp.version());
      ps.setLong(7, cp.prevSeq());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Checkpoint> checkpoints() throws StoreException {
    return checkpoints("");
  }

  private List<Checkpoint> checkpoints(String where, Object... args) throws StoreException {
    List<Checkpoint> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT seq, hash, at, key_label, signature, version, prev_seq FROM audit_checkpoint " + where
            + " ORDER BY seq")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Checkpoint(rs.getLong(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)), rs.getString(4),
              rs.getBytes(5), rs.getInt(6), rs.getLong(7)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Checkpoint> lastCheckpoint() throws StoreException {
    List<Checkpoint> l = checkpoints("WHERE seq = (SELECT MAX(seq) FROM audit_checkpoint)");
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  @Override
  public List<Row> records(long from, long to, Instant since, Instant until, String action, String actor,
      String target, int limit) throws StoreException {
    StringBuilder sql = new StringBuilder("SELECT seq, at, actor, action, target, detail, prev_hash, hash "
        + "FROM audit_record WHERE seq >= ? AND seq <= ?");
    List<Object> args = new ArrayList<>(List.of(from, to));
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
    sql.append(" ORDER BY seq LIMIT ?");
    args.add(limit);
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<String> lastDetail(String action) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT detail FROM audit_record WHERE action = ? "
        + "ORDER BY seq DESC LIMIT 1")) {
      ps.setString(1, action);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
