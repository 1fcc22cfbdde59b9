package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.store.RecoveryStatus;
import org.keyarc.ca.store.RecoveryStore;
import org.keyarc.ca.store.StoreException;

/** {@link RecoveryStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcRecoveries implements RecoveryStore {
  private final Connection c;

  JdbcRecoveries(Connection c) {
    this.c = c;
  }

  @Override
  public long open(String serial, String subject, int threshold, byte[] blob, String by,
      Instant at) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO recovery_request (serial, subject, threshold, blob, "
          + "status, opened_by, opened_at) VALUES (?,?,?,?,'OPEN',?,?)", Statement.RETURN_GENERATED_KEYS)) {
        ps.setString(1, serial);
        ps.setString(2, subject);
        ps.setInt(3, threshold);
        ps.setBytes(4, blob);
        ps.setString(5, by);
        ps.setLong(6, at.toEpochMilli());
        ps.executeUpdate();
        try (ResultSet k = ps.getGeneratedKeys()) {
          k.next();
          return k.getLong(1);
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Row> find(long id) throws StoreException {
    try {
      List<Row> r = query("WHERE id = ?", id);
      return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> list(boolean openOnly) throws StoreException {
    try {
      return openOnly ? query("WHERE status = 'OPEN' ORDER BY id") : query("ORDER BY id");
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void step(long id, Step s, byte[] progress) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO recovery_step (request_id, step, agent, agent_cert, "
          + "card, at) VALUES (?,?,?,?,?,?)")) {
        ps.setLong(1, id);
        ps.setInt(2, s.step());
        ps.setString(3, s.agent());
        ps.setString(4, s.agentCert());
        ps.setString(5, s.card());
        ps.setLong(6, s.at().toEpochMilli());
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(progress == null
          ? "UPDATE recovery_request SET status = 'COMPLETED', closed_at = ?, progress = NULL WHERE id = ?"
          : "UPDATE recovery_request SET progress = ? WHERE id = ?")) {
        if (progress == null) {
          ps.setLong(1, s.at().toEpochMilli());
        } else {
          ps.setBytes(1, progress);
        }
        ps.setLong(2, id);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Step> steps(long id) throws StoreException {
    try {
      List<Step> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT step, agent, agent_cert, card, at FROM recovery_step "
          + "WHERE request_id = ? ORDER BY step")) {
        ps.setLong(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Step(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Instant.ofEpochMilli(rs.getLong(5))));
          }
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private List<Row> query(String tail, Object... args) throws SQLException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id, serial, subject, threshold, blob, progress, status, "
        + "opened_by, opened_at, closed_at FROM recovery_request " + tail)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getBytes(5),
              rs.getBytes(6), RecoveryStatus.valueOf(rs.getString(7)), rs.getString(8), Instant.ofEpochMilli(rs.getLong(9)),
              Sql.instant(rs, 10)));
        }
      }
    }
    return out;
  }
}
