package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import org.keyarc.ca.store.CrlStore;
import org.keyarc.ca.store.StoreException;

/** {@link CrlStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcCrls implements CrlStore {
  private final Connection c;

  JdbcCrls(Connection c) {
    this.c = c;
  }

  @Override
  public void lockPublication() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT id FROM crl_lock WHERE id = 1 FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new StoreException("the crl_lock row is missing (the schema was edited)");
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public long nextNumber() throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(crl_number), 0) FROM crl");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) + 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void insert(Row r) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO crl (crl_number, this_update, next_update, der, base_number, ca_generation) VALUES (?,?,?,?,?,?)")) {
        ps.setLong(1, r.number());
        ps.setLong(2, r.thisUpdate().toEpochMilli());
        ps.setLong(3, r.nextUpdate().toEpochMilli());
        ps.setBytes(4, r.der());
        ps.setObject(5, r.baseNumber(), java.sql.Types.BIGINT);
        ps.setInt(6, r.generation());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Row> latest(int generation) throws StoreException {
    return newest("base_number IS NULL" + of(generation));
  }

  @Override
  public Optional<Row> latestDelta(int generation) throws StoreException {
    return newest("base_number IS NOT NULL" + of(generation));
  }

  @Override
  public Optional<Row> oldestValid(int generation, Instant at) throws StoreException {
    return one("base_number IS NULL AND next_update > " + at.toEpochMilli() + of(generation), "ASC");
  }

  /** The SQL condition on the CA key's generation (numbers only: no text reaches the SQL). */
  private static String of(int generation) {
    return generation < 0 ? "" : " AND ca_generation = " + generation;
  }

  private Optional<Row> newest(String where) throws StoreException {
    return one(where, "DESC");
  }

  private Optional<Row> one(String where, String order) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT crl_number, this_update, next_update, der, base_number, ca_generation "
          + "FROM crl WHERE " + where + " ORDER BY crl_number " + order + " LIMIT 1");
          ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        long base = rs.getLong(5);
        return Optional.of(new Row(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)),
            Instant.ofEpochMilli(rs.getLong(3)), rs.getBytes(4), rs.wasNull() ? null : base, rs.getInt(6)));
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
