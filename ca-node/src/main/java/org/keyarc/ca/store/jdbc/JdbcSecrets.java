package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.store.SecretStore;
import org.keyarc.ca.store.StoreException;

/** {@link SecretStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcSecrets implements SecretStore {
  private final Connection c;

  JdbcSecrets(Connection c) {
    this.c = c;
  }

  @Override
  public void insert(SecretRecord s) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrollment_secret (reference, nonce, secret_hash, "
          + "template, subject, created_by, created_at, expires_at, subject_alt_names, creator) "
          + "VALUES (?,?,?,?,?,?,?,?,?,?)")) {
        ps.setString(1, s.reference());
        ps.setBytes(2, s.nonce());
        ps.setString(3, s.secretHash());
        ps.setString(4, s.template());
        ps.setString(5, s.subject());
        ps.setString(6, s.createdBy());
        ps.setLong(7, s.createdAt().toEpochMilli());
        ps.setLong(8, s.expiresAt().toEpochMilli());
        ps.setBytes(9, s.subjectAltNames());
        ps.setString(10, s.creator());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<SecretRecord> find(String reference) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT reference, nonce, secret_hash, template, subject, "
          + "created_by, created_at, expires_at, used_at, subject_alt_names, secret_failures, used_transaction, "
          + "creator FROM enrollment_secret WHERE reference = ?")) {
        ps.setString(1, reference);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          return Optional.of(new SecretRecord(rs.getString(1), rs.getBytes(2), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)),
              Instant.ofEpochMilli(rs.getLong(8)), Sql.instant(rs, 9), rs.getBytes(10), rs.getInt(11),
              rs.getString(12), rs.getString(13)));
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean markUsed(String reference, Instant at, String transactionId) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE enrollment_secret SET used_at = ?, used_transaction = ? "
          + "WHERE reference = ? AND used_at IS NULL")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, transactionId);
        ps.setString(3, reference);
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public int recordFailure(String reference) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE enrollment_secret SET secret_failures = secret_failures + 1 WHERE reference = ?")) {
        ps.setString(1, reference);
        if (ps.executeUpdate() != 1) {
          return 0;
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT secret_failures FROM enrollment_secret WHERE reference = ?")) {
        ps.setString(1, reference);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getInt(1) : 0;
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
