package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.PostgresFixture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster's leader lock on a real PostgreSQL: one holder at a time; a holder whose database session is cut
 * (the node lost the database without dying) knows it at its next check, and another node takes over; a holder
 * that gives the lock up frees it at once.
 */
class PgLeaderLockTest {
  @Test
  void oneHolderAndALostSessionIsNoticed() throws Exception {
    try (PostgresFixture pg = PostgresFixture.start()) {
      String url = pg.newDatabase("keyarc_leader");
      PgLeaderLock a = new PgLeaderLock(url, "postgres", null);
      PgLeaderLock b = new PgLeaderLock(url, "postgres", null);
      try {
        assertTrue(a.hold(), "the first node takes the free lock");
        assertTrue(a.hold(), "and keeps it");
        assertFalse(b.hold(), "a second node does not get it");
        // the leader's session is cut from the database side, as a network failure or an administrator would
        try (Connection admin = DriverManager.getConnection(url, "postgres", null); Statement st = admin.createStatement()) {
          st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
              + "'keyarc leader lock' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
        }
        long end = System.nanoTime() + 5_000_000_000L;
        boolean taken = b.hold();
        while (!taken && System.nanoTime() < end) { // the backend ends a moment after it is told to
          Thread.sleep(50);
          taken = b.hold();
        }
        assertTrue(taken, "the lock is free once the leader's session ended: the second node leads");
        assertFalse(a.hold(), "the old leader finds its session gone and does not lead");
        b.close();
        assertTrue(a.hold(), "given up, the lock is free again at once");
      } finally {
        a.close();
        b.close();
      }
    }
  }
}
