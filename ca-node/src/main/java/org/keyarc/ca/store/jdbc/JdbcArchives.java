package org.keyarc.ca.store.jdbc;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.StoreException;

/** {@link ArchiveStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcArchives implements ArchiveStore {
  private final Connection c;

  JdbcArchives(Connection c) {
    this.c = c;
  }

  @Override
  public void insert(Row r) throws StoreException {
    try {
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
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> bySerial(String issuer, BigInteger serial) throws StoreException {
    try {
      return query("issuer = ? AND serial = ?", issuer, serial.toString(16));
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> bySubject(String subject) throws StoreException {
    try {
      return query("subject = ?", subject);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<BigInteger> serials(String issuer, int limit) throws StoreException {
    List<BigInteger> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT serial FROM archived_key WHERE issuer = ? "
        + "ORDER BY created_at LIMIT ?")) {
      ps.setString(1, issuer);
      ps.setInt(2, Math.max(1, limit));
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new BigInteger(rs.getString(1), 16));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Key> keys(int limit) throws StoreException {
    List<Key> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT issuer, serial FROM archived_key ORDER BY created_at "
        + "LIMIT ?")) {
      ps.setInt(1, Math.max(1, limit));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Key(rs.getString(1), new BigInteger(rs.getString(2), 16)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> byCertHash(String hex) throws StoreException {
    try {
      String h = hex.toLowerCase().replace(":", "");
      return query(h.length() == 40 ? "cert_sha1 = ?" : "cert_sha256 = ?", h);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public long count() throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM archived_key"); ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Versions versions(String issuer, BigInteger serial) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT record_version, previous_record, verified_at FROM "
        + "archived_key WHERE issuer = ? AND serial = ?")) {
      ps.setString(1, issuer);
      ps.setString(2, serial.toString(16));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        int version = rs.getInt(1);
        byte[] previous = rs.getBytes(2);
        long verified = rs.getLong(3);
        Instant verifiedAt = rs.wasNull() ? null : Instant.ofEpochMilli(verified); // wasNull: of the last column read
        return new Versions(version, previous, verifiedAt);
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setExternalCertificate(String issuer, BigInteger serial, byte[] der) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE archived_key SET external_cert = ? WHERE issuer = ? AND "
        + "serial = ?")) {
      ps.setBytes(1, der);
      ps.setString(2, issuer);
      ps.setString(3, serial.toString(16));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public byte[] externalCertificate(String issuer, BigInteger serial) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT external_cert FROM archived_key WHERE issuer = ? AND "
        + "serial = ?")) {
      ps.setString(1, issuer);
      ps.setString(2, serial.toString(16));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean replaceRecord(String issuer, BigInteger serial, byte[] current, byte[] replacement, int threshold,
      int agents) throws StoreException {
    List<Row> rows = bySerial(issuer, serial);
    if (rows.size() != 1 || !java.util.Arrays.equals(rows.get(0).record(), current)) {
      return false;
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE archived_key SET record = ?, previous_record = ?, "
        + "record_version = record_version + 1, verified_at = NULL, threshold = ?, agents = ? WHERE issuer = ? "
        + "AND serial = ? AND record = ?")) {
      ps.setBytes(1, replacement);
      ps.setBytes(2, current);
      ps.setInt(3, threshold);
      ps.setInt(4, agents);
      ps.setString(5, issuer);
      ps.setString(6, serial.toString(16));
      ps.setBytes(7, current); // compare and set: a concurrent change of the record makes this a no-op
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean markVerified(String issuer, BigInteger serial, byte[] current, Instant at, boolean dropPrevious)
      throws StoreException {
    List<Row> rows = bySerial(issuer, serial);
    if (rows.size() != 1 || !java.util.Arrays.equals(rows.get(0).record(), current)) {
      return false;
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE archived_key SET verified_at = ?"
        + (dropPrevious ? ", previous_record = NULL" : "") + " WHERE issuer = ? AND serial = ? AND record = ?")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, issuer);
      ps.setString(3, serial.toString(16));
      ps.setBytes(4, current);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private List<Row> query(String where, Object... args) throws SQLException {
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
