package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.StoreException;

/** {@link RoleStore} on JDBC (H2 and PostgreSQL, the same SQL), on one transaction's connection. */
final class JdbcRoles implements RoleStore {
  private final Connection c;

  JdbcRoles(Connection c) {
    this.c = c;
  }

  @Override
  public boolean grant(String subject, Role role, String by, Instant at) throws StoreException {
    try {
      if (rolesOf(subject).contains(role)) {
        return false;
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO role_member (subject, role, granted_by, granted_at) VALUES (?,?,?,?)")) {
        ps.setString(1, subject);
        ps.setString(2, role.name());
        ps.setString(3, by);
        ps.setLong(4, at.toEpochMilli());
        ps.executeUpdate();
        return true;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public boolean revoke(String subject, Role role) throws StoreException {
    try {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_member WHERE subject = ? AND role = ?")) {
        ps.setString(1, subject);
        ps.setString(2, role.name());
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public Set<Role> rolesOf(String subject) throws StoreException {
    try {
      Set<Role> roles = EnumSet.noneOf(Role.class);
      try (PreparedStatement ps = c.prepareStatement("SELECT role FROM role_member WHERE subject = ?")) {
        ps.setString(1, subject);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            roles.add(Role.valueOf(rs.getString(1)));
          }
        }
      }
      return roles;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  @Override
  public List<Member> list() throws StoreException {
    try {
      List<Member> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT subject, role, granted_by, granted_at FROM role_member ORDER BY subject, role");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Member(rs.getString(1), Role.valueOf(rs.getString(2)), rs.getString(3),
              Instant.ofEpochMilli(rs.getLong(4))));
        }
      }
      return out;
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }
}
