package org.keyarc.ca.store.jdbc;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.keyarc.ca.store.CeremonyStore;
import org.keyarc.ca.store.StoreException;

/** {@link CeremonyStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcCeremonies implements CeremonyStore {
  private final Connection c;

  JdbcCeremonies(Connection c) {
    this.c = c;
  }

  @Override
  public long create(Kind kind, String by, Instant at) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO key_ceremony (kind, started_by, started_at) "
        + "VALUES (?,?,?)", Statement.RETURN_GENERATED_KEYS)) {
      ps.setString(1, kind.name());
      ps.setString(2, by);
      ps.setLong(3, at.toEpochMilli());
      ps.executeUpdate();
      try (ResultSet k = ps.getGeneratedKeys()) {
        k.next();
        return k.getLong(1);
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setOrder(long id, byte[] signedOrder) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE key_ceremony SET signed_order = ? WHERE id = ?")) {
      ps.setBytes(1, signedOrder);
      ps.setLong(2, id);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean setProgress(long id, byte[] work, String by, Instant at, int expected) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE key_ceremony SET progress = ?, progress_by = ?, "
        + "progress_at = ?, progress_version = progress_version + 1 WHERE id = ? AND progress_version = ?")) {
      ps.setBytes(1, work);
      ps.setString(2, by);
      ps.setLong(3, at.toEpochMilli());
      ps.setLong(4, id);
      ps.setInt(5, expected);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Progress progress(long id) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT progress, progress_version FROM key_ceremony WHERE id = ?")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Progress(rs.getBytes(1), rs.getInt(2)) : new Progress(null, 0);
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void addItem(long id, String issuer, BigInteger serial) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO key_ceremony_item (ceremony_id, issuer, serial, "
        + "status) VALUES (?,?,?,'PENDING')")) {
      ps.setLong(1, id);
      ps.setString(2, issuer);
      ps.setString(3, serial.toString(16));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Optional<Row> find(long id) throws StoreException {
    List<Row> r = rows("WHERE id = ?", id);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
  }

  @Override
  public List<Row> list(int limit) throws StoreException {
    return rows("ORDER BY id DESC LIMIT ?", Math.max(1, limit));
  }

  @Override
  public List<Item> items(long id) throws StoreException {
    List<Item> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT issuer, serial, status, done_at, detail FROM "
        + "key_ceremony_item WHERE ceremony_id = ? ORDER BY issuer, serial")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long done = rs.getLong(4);
          Instant at = rs.wasNull() ? null : Instant.ofEpochMilli(done);
          out.add(new Item(rs.getString(1), new BigInteger(rs.getString(2), 16), ItemStatus.valueOf(rs.getString(3)),
              at, rs.getString(5)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setStatus(long id, String issuer, BigInteger serial, ItemStatus status, Instant at, String detail)
      throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE key_ceremony_item SET status = ?, done_at = ?, detail = ? "
        + "WHERE ceremony_id = ? AND issuer = ? AND serial = ?")) {
      ps.setString(1, status.name());
      ps.setLong(2, at.toEpochMilli());
      ps.setString(3, detail == null ? null : detail.length() > 1000 ? detail.substring(0, 1000) : detail);
      ps.setLong(4, id);
      ps.setString(5, issuer);
      ps.setString(6, serial.toString(16));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<org.keyarc.ca.store.ArchiveStore.Key> unfinished(Kind kind) throws StoreException {
    List<org.keyarc.ca.store.ArchiveStore.Key> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT i.issuer, i.serial FROM key_ceremony_item i JOIN "
        + "key_ceremony k ON k.id = i.ceremony_id WHERE k.kind = ? AND i.status = 'PENDING'")) {
      ps.setString(1, kind.name());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new org.keyarc.ca.store.ArchiveStore.Key(rs.getString(1), new BigInteger(rs.getString(2), 16)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void supersede(Kind kind, String issuer, BigInteger serial, long by, Instant at) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE key_ceremony_item SET status = 'SUPERSEDED', done_at = ?, "
        + "detail = ? WHERE issuer = ? AND serial = ? AND ceremony_id <> ? AND status IN ('PENDING', 'FAILED') AND "
        + "ceremony_id IN (SELECT id FROM key_ceremony WHERE kind = ?)")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, "superseded by ceremony " + by);
      ps.setString(3, issuer);
      ps.setString(4, serial.toString(16));
      ps.setLong(5, by);
      ps.setString(6, kind.name());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private List<Row> rows(String tail, Object... args) throws StoreException {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT id, kind, signed_order, started_by, started_at FROM "
        + "key_ceremony " + tail)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Row(rs.getLong(1), Kind.valueOf(rs.getString(2)), rs.getBytes(3), rs.getString(4),
              Instant.ofEpochMilli(rs.getLong(5))));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
