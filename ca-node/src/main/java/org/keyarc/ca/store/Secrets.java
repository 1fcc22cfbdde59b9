package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** Data access for the {@code enrollment_secret} table. */
public final class Secrets {
  private Secrets() {}

  public static void insert(Connection c, SecretRecord s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_secret (reference, nonce, secret_hash, "
        + "template, subject, created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?)")) {
      ps.setString(1, s.reference());
      ps.setBytes(2, s.nonce());
      ps.setString(3, s.secretHash());
      ps.setString(4, s.template());
      ps.setString(5, s.subject());
      ps.setString(6, s.createdBy());
      ps.setLong(7, s.createdAt().toEpochMilli());
      ps.setLong(8, s.expiresAt().toEpochMilli());
      ps.executeUpdate();
    }
  }

  public static Optional<SecretRecord> find(Connection c, String reference) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT reference, nonce, secret_hash, template, subject, "
        + "created_by, created_at, expires_at, used_at FROM enrollment_secret WHERE reference = ?")) {
      ps.setString(1, reference);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new SecretRecord(rs.getString(1), rs.getBytes(2), rs.getString(3), rs.getString(4),
            rs.getString(5), rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)),
            Instant.ofEpochMilli(rs.getLong(8)), Certificates.instant(rs, 9)));
      }
    }
  }

  /** Marks the secret used; false when it was already used (another request won the race). */
  public static boolean markUsed(Connection c, String reference, Instant at) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE enrollment_secret SET used_at = ? WHERE reference = ? AND used_at IS NULL")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, reference);
      return ps.executeUpdate() == 1;
    }
  }
}
