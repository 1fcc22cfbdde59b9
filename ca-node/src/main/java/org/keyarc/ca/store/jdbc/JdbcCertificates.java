package org.keyarc.ca.store.jdbc;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.CertificateStore;
import org.keyarc.ca.store.StoreException;

/** {@link CertificateStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcCertificates implements CertificateStore {
  private final Connection c;

  JdbcCertificates(Connection c) {
    this.c = c;
  }
  private static final String COLUMNS = "issuer, serial, subject, template, not_before, not_after, status, "
      + "confirm_deadline, revoked_at, revocation_reason, request_id, sha256, issued_at, der, transaction_id, requester, "
      + "origin";

  @Override
  public void insert(CertRecord r, int templateVersion, int caGeneration) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO certificate (" + COLUMNS + ", template_version, "
          + "ca_generation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
        ps.setString(1, r.issuer());
        ps.setString(2, r.serial().toString(16));
        ps.setString(3, r.subject());
        ps.setString(4, r.template());
        ps.setLong(5, r.notBefore().toEpochMilli());
        ps.setLong(6, r.notAfter().toEpochMilli());
        ps.setString(7, r.status().name());
        Sql.setInstant(ps, 8, r.confirmDeadline());
        Sql.setInstant(ps, 9, r.revokedAt());
        if (r.revocationReason() == null) {
          ps.setNull(10, Types.INTEGER);
        } else {
          ps.setInt(10, r.revocationReason());
        }
        if (r.requestId() == null) {
          ps.setNull(11, Types.BIGINT);
        } else {
          ps.setLong(11, r.requestId());
        }
        ps.setString(12, r.sha256());
        ps.setLong(13, r.issuedAt().toEpochMilli());
        ps.setBytes(14, r.der());
        ps.setString(15, r.transactionId());
        ps.setString(16, r.requester());
        ps.setString(17, r.origin());
        if (templateVersion > 0) {
          ps.setInt(18, templateVersion);
        } else {
          ps.setNull(18, Types.INTEGER);
        }
        ps.setInt(19, caGeneration);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<CertRecord> find(String issuer, BigInteger serial, int caGeneration) throws StoreException {
    try {
      return one("SELECT " + COLUMNS + " FROM certificate WHERE issuer = ? AND serial = ? AND ca_generation = ?",
          issuer, serial.toString(16), caGeneration);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<CertRecord> find(String issuer, BigInteger serial) throws StoreException {
    try {
      return one("SELECT " + COLUMNS + " FROM certificate WHERE issuer = ? AND serial = ?",
          issuer, serial.toString(16));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<CertRecord> findBySha256(String sha256) throws StoreException {
    try {
      return one("SELECT " + COLUMNS + " FROM certificate WHERE sha256 = ?", sha256.toLowerCase());
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<CertRecord> list(CertRecord.Status status, String subject, int limit)
      throws StoreException {
    try {
      StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM certificate WHERE 1=1");
      List<Object> args = new ArrayList<>();
      if (status != null) {
        sql.append(" AND status = ?");
        args.add(status.name());
      }
      if (subject != null) {
        sql.append(" AND subject = ?");
        args.add(subject);
      }
      sql.append(" ORDER BY issued_at DESC, serial LIMIT ").append(limit);
      return many(sql.toString(), args.toArray());
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<CertRecord> revokedUnexpired(String issuer, Instant now) throws StoreException {
    try {
      return many("SELECT " + COLUMNS + " FROM certificate WHERE issuer = ? AND status = 'REVOKED' "
          + "AND not_after > ? ORDER BY revoked_at", issuer, now.toEpochMilli());
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<CertRecord> ofTransaction(String transactionId) throws StoreException {
    try {
      return many("SELECT " + COLUMNS + " FROM certificate WHERE transaction_id = ?", transactionId);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<CertRecord> unconfirmedBefore(Instant now) throws StoreException {
    try {
      return many("SELECT " + COLUMNS + " FROM certificate WHERE status = 'UNCONFIRMED' AND confirm_deadline < ?",
          now.toEpochMilli());
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean startConfirmClock(String issuer, BigInteger serial, Instant deadline) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET confirm_deadline = ? WHERE issuer = ? "
          + "AND serial = ? AND status = 'UNCONFIRMED' AND (confirm_deadline IS NULL OR confirm_deadline > ?)")) {
        ps.setLong(1, deadline.toEpochMilli());
        ps.setString(2, issuer);
        ps.setString(3, serial.toString(16));
        ps.setLong(4, deadline.toEpochMilli());
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean confirm(String issuer, BigInteger serial) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'ISSUED', confirm_deadline = NULL "
          + "WHERE issuer = ? AND serial = ? AND status = 'UNCONFIRMED'")) {
        ps.setString(1, issuer);
        ps.setString(2, serial.toString(16));
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean rejectUnconfirmed(String issuer, BigInteger serial, int reason, Instant at) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'REVOKED', revoked_at = ?, "
          + "revocation_reason = ?, confirm_deadline = NULL WHERE issuer = ? AND serial = ? AND status = 'UNCONFIRMED'")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setInt(2, reason);
        ps.setString(3, issuer);
        ps.setString(4, serial.toString(16));
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean revoke(String issuer, BigInteger serial, int reason, Instant at)
      throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'REVOKED', revoked_at = ?, "
          + "revocation_reason = ?, confirm_deadline = NULL WHERE issuer = ? AND serial = ? AND status <> 'REVOKED'")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setInt(2, reason);
        ps.setString(3, issuer);
        ps.setString(4, serial.toString(16));
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public long count() throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM certificate");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private Optional<CertRecord> one(String sql, Object... args) throws SQLException {
    List<CertRecord> all = many(sql, args);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
  }

  private List<CertRecord> many(String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<CertRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new CertRecord(rs.getString(1), new BigInteger(rs.getString(2), 16), rs.getString(3),
              rs.getString(4), Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)),
              CertRecord.Status.valueOf(rs.getString(7)), Sql.instant(rs, 8), Sql.instant(rs, 9),
              rs.getObject(10) == null ? null : rs.getInt(10),
              rs.getObject(11) == null ? null : rs.getLong(11), rs.getString(12),
              Instant.ofEpochMilli(rs.getLong(13)), rs.getBytes(14), rs.getString(15), rs.getString(16),
              rs.getString(17)));
        }
      }
      return out;
    }
  }



  @Override
  public java.util.OptionalInt templateVersion(String issuer, BigInteger serial) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT template_version FROM certificate WHERE issuer = ? AND "
        + "serial = ?")) {
      ps.setString(1, issuer);
      ps.setString(2, serial.toString(16));
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          int v = rs.getInt(1);
          return rs.wasNull() ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(v);
        }
        return java.util.OptionalInt.empty();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
