package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.StoreException;

/** {@link RoleStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcRoles implements RoleStore {
  private static final String COLUMNS = "holder, subject, cert_serial, role, granted_by, granted_at";
  private final Connection c;

  JdbcRoles(Connection c) {
    this.c = c;
  }

  @Override
  public boolean grant(Member m) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM role_member WHERE holder = ? AND role = ?")) {
        ps.setString(1, m.holder());
        ps.setString(2, m.role().name());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return false;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO role_member (" + COLUMNS + ") VALUES (?,?,?,?,?,?)")) {
        ps.setString(1, m.holder());
        ps.setString(2, m.subject());
        ps.setString(3, m.certSerial());
        ps.setString(4, m.role().name());
        ps.setString(5, m.grantedBy());
        ps.setLong(6, m.grantedAt().toEpochMilli());
        ps.executeUpdate();
        return true;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public int revoke(Collection<String> holders, Role role) throws StoreException {
    try {
      int n = 0;
      for (String h : holders) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_member WHERE holder = ? AND role = ?")) {
          ps.setString(1, h);
          ps.setString(2, role.name());
          n += ps.executeUpdate();
        }
      }
      return n;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public int revokeSubject(String subject, Role role) throws StoreException {
    try {
      int n;
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_member WHERE subject = ? AND role = ?")) {
        ps.setString(1, subject);
        ps.setString(2, role.name());
        n = ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_pending WHERE subject = ? AND role = ?")) {
        ps.setString(1, subject);
        ps.setString(2, role.name());
        n += ps.executeUpdate();
      }
      return n;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Set<Role> rolesOf(Collection<String> holders, String subject) throws StoreException {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (Member m : ofHolders(holders)) {
      if (m.subject().equals(subject)) {
        roles.add(m.role());
      }
    }
    return roles;
  }

  @Override
  public List<Member> ofHolders(Collection<String> holders) throws StoreException {
    try {
      List<Member> out = new ArrayList<>();
      for (String h : holders) {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM role_member WHERE holder = ?")) {
          ps.setString(1, h);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(member(rs));
            }
          }
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Member> list() throws StoreException {
    try {
      List<Member> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT " + COLUMNS + " FROM role_member ORDER BY subject, role, holder");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(member(rs));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  private static Member member(ResultSet rs) throws SQLException {
    return new Member(rs.getString(1), rs.getString(2), rs.getString(3), Role.valueOf(rs.getString(4)),
        rs.getString(5), Instant.ofEpochMilli(rs.getLong(6)));
  }

  @Override
  public void addPending(Pending p) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO role_pending (secret_ref, role, subject, granted_by, granted_at) VALUES (?,?,?,?,?)")) {
      ps.setString(1, p.secretReference());
      ps.setString(2, p.role().name());
      ps.setString(3, p.subject());
      ps.setString(4, p.grantedBy());
      ps.setLong(5, p.grantedAt().toEpochMilli());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Pending> pendingFor(String reference) throws StoreException {
    return pending("SELECT secret_ref, role, subject, granted_by, granted_at FROM role_pending WHERE secret_ref = ? "
        + "ORDER BY role", reference);
  }

  @Override
  public int removePending(String reference) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_pending WHERE secret_ref = ?")) {
      ps.setString(1, reference);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Pending> pending() throws StoreException {
    return pending("SELECT secret_ref, role, subject, granted_by, granted_at FROM role_pending "
        + "ORDER BY subject, role", null);
  }

  private List<Pending> pending(String sql, String arg) throws StoreException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      if (arg != null) {
        ps.setString(1, arg);
      }
      List<Pending> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Pending(rs.getString(1), Role.valueOf(rs.getString(2)), rs.getString(3), rs.getString(4),
              Instant.ofEpochMilli(rs.getLong(5))));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
