package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import org.keyarc.ca.store.ChangeFeed;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChangeFeed} on PostgreSQL: {@code LISTEN keyarc_change} on a connection of its own, outside the pool (a
 * listening session must stay open). The writers' side is {@link #announce}, a {@code pg_notify} in the writer's
 * transaction: PostgreSQL delivers it when that transaction commits, and never if it rolls back. A lost connection
 * is opened again; the first answer after that is every topic, since changes may have been missed meanwhile.
 */
final class PgChangeFeed implements ChangeFeed {
  private static final Logger LOG = LoggerFactory.getLogger(PgChangeFeed.class);
  static final String CHANNEL = "keyarc_change";

  private final String url;
  private final Properties props;
  private Connection conn;
  private volatile boolean closed;

  PgChangeFeed(String url, String user, String password) {
    this.url = url;
    // no socket timeout: the session waits for notifications (getNotifications bounds each wait itself)
    this.props = PgLeaderLock.sessionProperties(user, password, "keyarc change feed", 0);
  }

  /** Announces {@code topic} in the unit of work on {@code c} (PostgreSQL only; nothing on another database). */
  static void announce(Connection c, String topic) throws SQLException {
    if (!c.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
      return;
    }
    try (var ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      ps.setString(1, CHANNEL);
      ps.setString(2, topic);
      ps.execute();
    }
  }

  @Override
  public synchronized Set<String> await(Duration max) throws InterruptedException {
    if (closed) {
      Thread.sleep(max.toMillis());
      return Set.of();
    }
    boolean reconnected = false;
    try {
      if (conn == null) {
        conn = DriverManager.getConnection(url, props);
        conn.setAutoCommit(true);
        try (Statement st = conn.createStatement()) {
          st.execute("LISTEN " + CHANNEL);
        }
        reconnected = true;
      }
      PGNotification[] got = conn.unwrap(PGConnection.class).getNotifications((int) Math.max(1, max.toMillis()));
      Set<String> topics = new HashSet<>();
      if (got != null) {
        for (PGNotification n : got) {
          if (ALL.contains(n.getParameter())) {
            topics.add(n.getParameter());
          }
        }
      }
      if (reconnected) {
        topics.addAll(ALL); // what changed before the LISTEN is unknown
      }
      return topics;
    } catch (SQLException e) {
      if (!closed) {
        LOG.warn("the store's change feed failed ({}); the nodes' periodic refresh goes on", e.getMessage());
      }
      drop();
      Thread.sleep(Math.min(max.toMillis(), 2000));
      return Set.of();
    }
  }

  private void drop() {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException e) {
        // gone either way
      }
      conn = null;
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      drop();
    }
  }
}
