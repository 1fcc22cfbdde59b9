package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Data access for {@code recovery_request} and {@code recovery_step}. */
public final class RecoveryRequests {
  private RecoveryRequests() {}

  /** An online recovery. */
  public record Row(long id, String serial, String subject, int threshold, byte[] blob, byte[] progress, String status,
      String openedBy, Instant openedAt, Instant closedAt) {
    @Override
    public String toString() {
      return "Recovery[" + id + ", " + subject + ", " + status + "]";
    }
  }

  /** One agent's step. */
  public record Step(int step, String agent, String agentCert, String card, Instant at) {}

  public static long open(Connection c, String serial, String subject, int threshold, byte[] blob, String by,
      Instant at) throws SQLException {
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
  }

  public static Optional<Row> find(Connection c, long id) throws SQLException {
    List<Row> r = query(c, "WHERE id = ?", id);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
  }

  public static List<Row> list(Connection c, boolean openOnly) throws SQLException {
    return openOnly ? query(c, "WHERE status = 'OPEN' ORDER BY id") : query(c, "ORDER BY id");
  }

  /** Records a step; {@code progress} null when the step completed the recovery. */
  public static void step(Connection c, long id, Step s, byte[] progress) throws SQLException {
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
        ? "UPDATE recovery_request SET status = 'COMPLETED', closed_at = ? WHERE id = ?"
        : "UPDATE recovery_request SET progress = ? WHERE id = ?")) {
      if (progress == null) {
        ps.setLong(1, s.at().toEpochMilli());
      } else {
        ps.setBytes(1, progress);
      }
      ps.setLong(2, id);
      ps.executeUpdate();
    }
  }

  public static List<Step> steps(Connection c, long id) throws SQLException {
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
  }

  private static List<Row> query(Connection c, String tail, Object... args) throws SQLException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id, serial, subject, threshold, blob, progress, status, "
        + "opened_by, opened_at, closed_at FROM recovery_request " + tail)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getBytes(5),
              rs.getBytes(6), rs.getString(7), rs.getString(8), Instant.ofEpochMilli(rs.getLong(9)),
              Certificates.instant(rs, 10)));
        }
      }
    }
    return out;
  }
}
