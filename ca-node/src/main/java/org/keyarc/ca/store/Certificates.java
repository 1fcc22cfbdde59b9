package org.keyarc.ca.store;

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

/** Data access for the {@code certificate} table. Every method runs on the caller's transaction. */
public final class Certificates {
  private static final String COLUMNS = "issuer, serial, subject, template, not_before, not_after, status, "
      + "confirm_deadline, revoked_at, revocation_reason, request_id, sha256, issued_at, der, transaction_id";

  private Certificates() {}

  public static void insert(Connection c, CertRecord r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO certificate (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      ps.setString(1, r.issuer());
      ps.setString(2, r.serial().toString(16));
      ps.setString(3, r.subject());
      ps.setString(4, r.template());
      ps.setLong(5, r.notBefore().toEpochMilli());
      ps.setLong(6, r.notAfter().toEpochMilli());
      ps.setString(7, r.status().name());
      setInstant(ps, 8, r.confirmDeadline());
      setInstant(ps, 9, r.revokedAt());
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
      ps.executeUpdate();
    }
  }

  public static Optional<CertRecord> find(Connection c, String issuer, BigInteger serial) throws SQLException {
    return one(c, "SELECT " + COLUMNS + " FROM certificate WHERE issuer = ? AND serial = ?",
        issuer, serial.toString(16));
  }

  public static Optional<CertRecord> findBySha256(Connection c, String sha256) throws SQLException {
    return one(c, "SELECT " + COLUMNS + " FROM certificate WHERE sha256 = ?", sha256.toLowerCase());
  }

  /** Newest first; {@code status} and {@code subject} may be null (no filter). */
  public static List<CertRecord> list(Connection c, CertRecord.Status status, String subject, int limit)
      throws SQLException {
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
    return many(c, sql.toString(), args.toArray());
  }

  /** Every revoked certificate of {@code issuer} that has not yet expired (the CRL's entries). */
  public static List<CertRecord> revokedUnexpired(Connection c, String issuer, Instant now) throws SQLException {
    return many(c, "SELECT " + COLUMNS + " FROM certificate WHERE issuer = ? AND status = 'REVOKED' "
        + "AND not_after > ? ORDER BY revoked_at", issuer, now.toEpochMilli());
  }

  /** The certificates a CMP transaction issued. */
  public static List<CertRecord> ofTransaction(Connection c, String transactionId) throws SQLException {
    return many(c, "SELECT " + COLUMNS + " FROM certificate WHERE transaction_id = ?", transactionId);
  }

  /** Unconfirmed certificates whose certConf deadline has passed. */
  public static List<CertRecord> unconfirmedBefore(Connection c, Instant now) throws SQLException {
    return many(c, "SELECT " + COLUMNS + " FROM certificate WHERE status = 'UNCONFIRMED' AND confirm_deadline < ?",
        now.toEpochMilli());
  }

  /** UNCONFIRMED → ISSUED. Returns false when the certificate was not waiting for confirmation. */
  public static boolean confirm(Connection c, String issuer, BigInteger serial) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'ISSUED', confirm_deadline = NULL "
        + "WHERE issuer = ? AND serial = ? AND status = 'UNCONFIRMED'")) {
      ps.setString(1, issuer);
      ps.setString(2, serial.toString(16));
      return ps.executeUpdate() == 1;
    }
  }

  /** Marks the certificate revoked; false when it does not exist or is already revoked. */
  public static boolean revoke(Connection c, String issuer, BigInteger serial, int reason, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET status = 'REVOKED', revoked_at = ?, "
        + "revocation_reason = ?, confirm_deadline = NULL WHERE issuer = ? AND serial = ? AND status <> 'REVOKED'")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setInt(2, reason);
      ps.setString(3, issuer);
      ps.setString(4, serial.toString(16));
      return ps.executeUpdate() == 1;
    }
  }

  public static long count(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM certificate");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Optional<CertRecord> one(Connection c, String sql, Object... args) throws SQLException {
    List<CertRecord> all = many(c, sql, args);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
  }

  private static List<CertRecord> many(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<CertRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new CertRecord(rs.getString(1), new BigInteger(rs.getString(2), 16), rs.getString(3),
              rs.getString(4), Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)),
              CertRecord.Status.valueOf(rs.getString(7)), instant(rs, 8), instant(rs, 9),
              rs.getObject(10) == null ? null : rs.getInt(10),
              rs.getObject(11) == null ? null : rs.getLong(11), rs.getString(12),
              Instant.ofEpochMilli(rs.getLong(13)), rs.getBytes(14), rs.getString(15)));
        }
      }
      return out;
    }
  }

  static void setInstant(PreparedStatement ps, int i, Instant t) throws SQLException {
    if (t == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, t.toEpochMilli());
    }
  }

  static Instant instant(ResultSet rs, int i) throws SQLException {
    long v = rs.getLong(i);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }
}
