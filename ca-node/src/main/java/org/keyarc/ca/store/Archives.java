package org.keyarc.ca.store;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Data access for {@code archived_key}: archive records found by certificate serial, subject or
 * certificate hash (SHA-256 or SHA-1, as {@code certutil -getkey} takes).
 */
public final class Archives {
  private Archives() {}

  /** One archived key. {@code record} is the DER ArchiveRecord (ciphertext only). */
  public record Row(String issuer, BigInteger serial, String subject, String certSha256, String certSha1,
      int threshold, int agents, Instant createdAt, byte[] record) {
    @Override
    public String toString() {
      return "Archive[" + serial.toString(16) + ", " + subject + ", " + threshold + " of " + agents + "]";
    }
  }

  public static void insert(Connection c, Row r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO archived_key (issuer, serial, subject, cert_sha256, "
        + "cert_sha1, threshold, agents, created_at, record) VALUES (?,?,?,?,?,?,?,?,?)")) {
      ps.setString(1, r.issuer());
      ps.setString(2, r.serial().toString(16));
      ps.setString(3, r.subject());
      ps.setString(4, r.certSha256());
      ps.setString(5, r.certSha1());
      ps.setInt(6, r.threshold());
      ps.setInt(7, r.agents());
      ps.setLong(8, r.createdAt().toEpochMilli());
      ps.setBytes(9, r.record());
      ps.executeUpdate();
    }
  }

  public static List<Row> bySerial(Connection c, String issuer, BigInteger serial) throws SQLException {
    return query(c, "issuer = ? AND serial = ?", issuer, serial.toString(16));
  }

  public static List<Row> bySubject(Connection c, String subject) throws SQLException {
    return query(c, "subject = ?", subject);
  }

  /** By certificate hash: 64 hex digits (SHA-256) or 40 (SHA-1). */
  public static List<Row> byCertHash(Connection c, String hex) throws SQLException {
    String h = hex.toLowerCase().replace(":", "");
    return query(c, h.length() == 40 ? "cert_sha1 = ?" : "cert_sha256 = ?", h);
  }

  public static long count(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM archived_key"); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<Row> query(Connection c, String where, Object... args) throws SQLException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT issuer, serial, subject, cert_sha256, cert_sha1, threshold, "
        + "agents, created_at, record FROM archived_key WHERE " + where + " ORDER BY created_at")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getString(1), new BigInteger(rs.getString(2), 16), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getInt(6), rs.getInt(7), Instant.ofEpochMilli(rs.getLong(8)), rs.getBytes(9)));
        }
      }
    }
    return out;
  }
}
