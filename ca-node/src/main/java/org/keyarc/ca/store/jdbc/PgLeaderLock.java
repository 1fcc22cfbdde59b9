package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import org.keyarc.ca.store.LeaderLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader lock on PostgreSQL: {@code pg_try_advisory_lock} on a connection of its own, outside the pool (the
 * lock belongs to the database session, so it must not go back to the pool). Each {@link #hold} checks the
 * connection with a query; if it failed, the lock is lost and taken again on a new connection when free. When the
 * leader's process ends, its session ends and PostgreSQL frees the lock at once; a leader cut off from the
 * database stops leading at its next check, and its session ends at the latest when TCP keep-alive gives up.
 */
final class PgLeaderLock implements LeaderLock {
  private static final Logger LOG = LoggerFactory.getLogger(PgLeaderLock.class);
  /** The advisory lock's key: "keyarc-1" as a number, the same on every node. */
  static final long KEY = 0x6b65796172632d31L;

  private final String url;
  private final Properties props;
  private Connection held;

  PgLeaderLock(String url, String user, String password) {
    this.url = url;
    this.props = sessionProperties(user, password, "keyarc leader lock", 10);
    // the server's side: a leader whose host died or was cut off loses its session, and so the lock, within
    // about 30 s instead of the operating system's two hours of TCP keep-alive
    props.setProperty("options", "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
        + " -c tcp_user_timeout=30000");
  }

  /**
   * The connection properties of a session the node keeps open outside the pool ({@code applicationName} shows in
   * pg_stat_activity): keep-alive on, and short connect and socket timeouts unless {@code socketTimeout} is 0.
   */
  static Properties sessionProperties(String user, String password, String applicationName, int socketTimeout) {
    Properties props = new Properties();
    if (user != null) {
      props.setProperty("user", user);
    }
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("tcpKeepAlive", "true");
    props.setProperty("connectTimeout", "5");
    if (socketTimeout > 0) {
      props.setProperty("socketTimeout", Integer.toString(socketTimeout));
    }
    props.setProperty("ApplicationName", applicationName);
    return props;
  }


  @Override
  public synchronized boolean hold() {
    try {
      if (held != null) {
        // a session lock lasts as long as its session: a live connection still holds it
        if (held.isValid(2)) {
          return true;
        }
        LOG.warn("the leader lock was lost");
        drop();
      }
      Connection c = DriverManager.getConnection(url, props);
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
        ps.setLong(1, KEY);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && rs.getBoolean(1)) {
            held = c;
            return true;
          }
        }
      }
      c.close();
      return false;
    } catch (SQLException e) {
      if (held != null) {
        LOG.warn("the leader lock's connection failed: {}", e.getMessage());
      }
      drop();
      return false;
    }
  }

  private void drop() {
    if (held != null) {
      try (PreparedStatement ps = held.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        ps.setLong(1, KEY); // at once: the session's end would free it too, but a moment later
        ps.execute();
      } catch (SQLException e) {
        // the session is gone, and the lock with it
      }
      try {
        held.close();
      } catch (SQLException e) {
        // it is gone either way
      }
      held = null;
    }
  }

  @Override
  public synchronized void close() {
    drop(); // ending the session frees the lock
  }
}
