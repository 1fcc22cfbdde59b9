package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** Data access for {@code crl}: published CRLs, numbered. */
public final class Crls {
  private Crls() {}

  /** A published CRL. */
  public record Row(long number, Instant thisUpdate, Instant nextUpdate, byte[] der) {}

  /** The next CRL number: one above the highest published. */
  public static long nextNumber(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(crl_number), 0) FROM crl");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1) + 1;
    }
  }

  public static void insert(Connection c, Row r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO crl (crl_number, this_update, next_update, der) VALUES (?,?,?,?)")) {
      ps.setLong(1, r.number());
      ps.setLong(2, r.thisUpdate().toEpochMilli());
      ps.setLong(3, r.nextUpdate().toEpochMilli());
      ps.setBytes(4, r.der());
      ps.executeUpdate();
    }
  }

  public static Optional<Row> latest(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT crl_number, this_update, next_update, der FROM crl ORDER BY crl_number DESC LIMIT 1");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
      return Optional.of(new Row(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)),
          Instant.ofEpochMilli(rs.getLong(3)), rs.getBytes(4)));
    }
  }
}
