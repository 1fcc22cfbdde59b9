package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.TemplateStore;

/** {@link TemplateStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcTemplates implements TemplateStore {
  private static final String COLUMNS = "name, version, enabled, definition, updated_at, updated_by";
  private final Connection c;

  JdbcTemplates(Connection c) {
    this.c = c;
  }

  private static Row row(ResultSet rs) throws SQLException {
    return new Row(rs.getString(1), rs.getInt(2), rs.getBoolean(3), rs.getString(4), Instant.ofEpochMilli(rs.getLong(5)),
        rs.getString(6));
  }

  @Override
  public List<Row> list() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM template_def ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      List<Row> out = new ArrayList<>();
      while (rs.next()) {
        out.add(row(rs));
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Row> lock(String name) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM template_def WHERE name = ? FOR UPDATE")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean insert(Row r) throws StoreException {
    if (lock(r.name()).isPresent()) {
      return false;
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO template_def (" + COLUMNS + ") VALUES (?,?,?,?,?,?)")) {
      set(ps, r);
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void update(Row r) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE template_def SET version = ?, enabled = ?, definition = ?, "
        + "updated_at = ?, updated_by = ? WHERE name = ?")) {
      ps.setInt(1, r.version());
      ps.setBoolean(2, r.enabled());
      ps.setString(3, r.definition());
      ps.setLong(4, r.updatedAt().toEpochMilli());
      ps.setString(5, r.updatedBy());
      ps.setString(6, r.name());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private static void set(PreparedStatement ps, Row r) throws SQLException {
    ps.setString(1, r.name());
    ps.setInt(2, r.version());
    ps.setBoolean(3, r.enabled());
    ps.setString(4, r.definition());
    ps.setLong(5, r.updatedAt().toEpochMilli());
    ps.setString(6, r.updatedBy());
  }

  @Override
  public long fingerprint() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(version), 0), COUNT(*), "
        + "COALESCE(SUM(CASE WHEN enabled THEN 1 ELSE 0 END), 0) FROM template_def");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1) * 1_000_003L + rs.getLong(2) * 1_009L + rs.getLong(3);
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<String> lockSeal() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT mac FROM template_seal WHERE id = 1 FOR UPDATE");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setSeal(String mac, Instant at, String by) throws StoreException {
    try {
      PgChangeFeed.announce(c, org.keyarc.ca.store.ChangeFeed.TEMPLATES); // every change of templates reseals them
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
    try (PreparedStatement up = c.prepareStatement("UPDATE template_seal SET mac = ?, sealed_at = ?, sealed_by = ? "
        + "WHERE id = 1")) {
      up.setString(1, mac);
      up.setLong(2, at.toEpochMilli());
      up.setString(3, by);
      if (up.executeUpdate() == 1) {
        return;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
    try (PreparedStatement ins = c.prepareStatement("INSERT INTO template_seal (id, mac, sealed_at, sealed_by) "
        + "VALUES (1, ?, ?, ?)")) {
      ins.setString(1, mac);
      ins.setLong(2, at.toEpochMilli());
      ins.setString(3, by);
      ins.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
