package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.StoreException;

/** {@link CaKeyStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcCaKeys implements CaKeyStore {
  private final Connection c;

  JdbcCaKeys(Connection c) {
    this.c = c;
  }

  @Override
  public void insert(Kind kind, String label, Instant notBefore, Instant notAfter, byte[] cert,
      byte[] publicKey, Instant at) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO ca_key (kind, key_label, not_before, not_after, "
          + "created_at, cert, public_key) VALUES (?,?,?,?,?,?,?)")) {
        ps.setString(1, kind.name());
        ps.setString(2, label);
        ps.setLong(3, notBefore.toEpochMilli());
        ps.setLong(4, notAfter.toEpochMilli());
        ps.setLong(5, at.toEpochMilli());
        ps.setBytes(6, cert);
        ps.setBytes(7, publicKey);
        ps.executeUpdate();
      }
      PgChangeFeed.announce(c, org.keyarc.ca.store.ChangeFeed.KEYS);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setCertificate(String label, byte[] cert, Instant notBefore, Instant notAfter)
      throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE ca_key SET cert = ?, not_before = ?, not_after = ? WHERE key_label = ?")) {
        ps.setBytes(1, cert);
        ps.setLong(2, notBefore.toEpochMilli());
        ps.setLong(3, notAfter.toEpochMilli());
        ps.setString(4, label);
        ps.executeUpdate();
      }
      PgChangeFeed.announce(c, org.keyarc.ca.store.ChangeFeed.KEYS);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<byte[]> chain() throws StoreException {
    List<byte[]> out = new java.util.ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT der FROM ca_chain ORDER BY position");
        java.sql.ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getBytes(1));
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setChain(List<byte[]> ders) throws StoreException {
    try {
      try (PreparedStatement del = c.prepareStatement("DELETE FROM ca_chain")) {
        del.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO ca_chain (position, der) VALUES (?, ?)")) {
        for (int i = 0; i < ders.size(); i++) {
          ps.setInt(1, i);
          ps.setBytes(2, ders.get(i));
          ps.executeUpdate();
        }
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void retire(String label, Instant at) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE ca_key SET retired_at = ? WHERE key_label = ?")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, label);
      ps.executeUpdate();
      PgChangeFeed.announce(c, org.keyarc.ca.store.ChangeFeed.KEYS);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Row> list(Kind kind) throws StoreException {
    try {
      List<Row> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id, kind, key_label, not_before, not_after, created_at, "
          + "cert, public_key, retired_at FROM ca_key WHERE kind = ? ORDER BY id DESC")) {
        ps.setString(1, kind.name());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Row(rs.getLong(1), Kind.valueOf(rs.getString(2)), rs.getString(3),
                Instant.ofEpochMilli(rs.getLong(4)), Instant.ofEpochMilli(rs.getLong(5)),
                Instant.ofEpochMilli(rs.getLong(6)), rs.getBytes(7), rs.getBytes(8), Sql.instant(rs, 9)));
          }
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
