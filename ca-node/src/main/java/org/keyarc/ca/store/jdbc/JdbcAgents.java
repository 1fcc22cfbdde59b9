package org.keyarc.ca.store.jdbc;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.StoreException;

/** {@link AgentStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcAgents implements AgentStore {
  private final Connection c;

  JdbcAgents(Connection c) {
    this.c = c;
  }

  @Override
  public boolean add(Agent a) throws StoreException {
    try {
      try (PreparedStatement check = c.prepareStatement(
          "SELECT 1 FROM recovery_agent WHERE issuer = ? AND serial = ?")) {
        check.setString(1, a.issuer());
        check.setString(2, a.serial().toString(16));
        try (ResultSet rs = check.executeQuery()) {
          if (rs.next()) {
            return false;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO recovery_agent (issuer, serial, subject, cert, "
          + "added_by, added_at) VALUES (?,?,?,?,?,?)")) {
        ps.setString(1, a.issuer());
        ps.setString(2, a.serial().toString(16));
        ps.setString(3, a.subject());
        ps.setBytes(4, a.cert());
        ps.setString(5, a.addedBy());
        ps.setLong(6, a.addedAt().toEpochMilli());
        ps.executeUpdate();
        return true;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean remove(String issuer, BigInteger serial) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM recovery_agent WHERE issuer = ? AND serial = ?")) {
        ps.setString(1, issuer);
        ps.setString(2, serial.toString(16));
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Agent> list() throws StoreException {
    try {
      List<Agent> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT issuer, serial, subject, cert, added_by, added_at "
          + "FROM recovery_agent ORDER BY added_at, serial"); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Agent(rs.getString(1), new BigInteger(rs.getString(2), 16), rs.getString(3), rs.getBytes(4),
              rs.getString(5), Instant.ofEpochMilli(rs.getLong(6))));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Policy policy() throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT agents, threshold FROM archive_policy WHERE id = 1");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Policy(rs.getInt(1), rs.getInt(2));
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setPolicy(Policy p) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("UPDATE archive_policy SET agents = ?, threshold = ? WHERE id = 1")) {
        ps.setInt(1, p.agents());
        ps.setInt(2, p.threshold());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public java.util.Optional<byte[]> seal() throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("SELECT mac FROM archive_config_seal WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? java.util.Optional.of(rs.getBytes(1)) : java.util.Optional.empty();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public void setSeal(byte[] mac, Instant at, String by) throws StoreException {
    try (PreparedStatement del = c.prepareStatement("DELETE FROM archive_config_seal WHERE id = 1");
        PreparedStatement ins = c.prepareStatement(
            "INSERT INTO archive_config_seal (id, mac, sealed_at, sealed_by) VALUES (1, ?, ?, ?)")) {
      del.executeUpdate();
      ins.setBytes(1, mac);
      ins.setLong(2, at.toEpochMilli());
      ins.setString(3, by);
      ins.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
