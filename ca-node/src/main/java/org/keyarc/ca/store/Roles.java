package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Data access for {@code role_member}: which certificate subject holds which role. */
public final class Roles {
  private Roles() {}

  /** The roles of the node. Enrollee is everyone with a valid request and is not stored. */
  public enum Role { ADMINISTRATOR, MANAGER, AUDITOR, RECOVERY_AGENT }

  /** A row: subject, role, who granted it and when. */
  public record Member(String subject, Role role, String grantedBy, Instant grantedAt) {}

  public static boolean grant(Connection c, String subject, Role role, String by, Instant at) throws SQLException {
    if (rolesOf(c, subject).contains(role)) {
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
  }

  public static boolean revoke(Connection c, String subject, Role role) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_member WHERE subject = ? AND role = ?")) {
      ps.setString(1, subject);
      ps.setString(2, role.name());
      return ps.executeUpdate() == 1;
    }
  }

  public static Set<Role> rolesOf(Connection c, String subject) throws SQLException {
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
  }

  public static List<Member> list(Connection c) throws SQLException {
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
  }
}
