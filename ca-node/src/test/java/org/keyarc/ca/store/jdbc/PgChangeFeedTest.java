package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.ChangeFeed;
import org.keyarc.ca.store.PostgresFixture;
import org.keyarc.ca.store.StoreException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another node's change, announced through a real PostgreSQL: a committed change of CA keys or templates reaches a
 * second store's feed; a rolled-back one never does; a feed whose session was cut opens it again and then reports
 * every topic (it cannot know what it missed).
 */
class PgChangeFeedTest {
  @Test
  void committedChangesArriveRolledBackOnesDoNotAndALostSessionReportsEverything() throws Exception {
    try (PostgresFixture pg = PostgresFixture.start()) {
      String url = pg.newDatabase("keyarc_feed");
      try (JdbcStore writer = JdbcStore.open(url, "postgres", null, 2);
          JdbcStore reader = JdbcStore.open(url, "postgres", null, 2);
          ChangeFeed feed = reader.changeFeed()) {
        assertTrue(feed.live());
        assertEquals(ChangeFeed.ALL, feed.await(Duration.ofMillis(200)), "the first answer after LISTEN: everything");
        assertEquals(Set.of(), feed.await(Duration.ofMillis(200)), "then nothing until something changes");
        // a rolled-back change announces nothing
        assertThrows(StoreException.class, () -> writer.inTransaction(tx -> {
          tx.caKeys().insert(CaKeyStore.Kind.EXCHANGE, "x-rolled-back", Instant.now(), Instant.now(), null,
              new byte[] {1}, Instant.now());
          throw new StoreException("failed after the change");
        }));
        assertEquals(Set.of(), feed.await(Duration.ofMillis(500)), "no notification from a rolled-back change");
        // a committed one does, to the other store
        writer.inTransaction(tx -> {
          tx.caKeys().insert(CaKeyStore.Kind.EXCHANGE, "x-committed", Instant.now(), Instant.now(), null,
              new byte[] {1}, Instant.now());
          return null;
        });
        assertEquals(Set.of(ChangeFeed.KEYS), collect(feed, ChangeFeed.KEYS));
        writer.inTransaction(tx -> {
          tx.templates().setSeal("00", Instant.now(), "test");
          return null;
        });
        assertEquals(Set.of(ChangeFeed.TEMPLATES), collect(feed, ChangeFeed.TEMPLATES));
        // the feed's session cut from the database side: it comes back and says it may have missed anything
        try (Connection admin = DriverManager.getConnection(url, "postgres", null);
            Statement st = admin.createStatement()) {
          st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
              + "'keyarc change feed'");
        }
        Set<String> after = new HashSet<>();
        long end = System.nanoTime() + 10_000_000_000L;
        while (!after.equals(ChangeFeed.ALL) && System.nanoTime() < end) {
          after.addAll(feed.await(Duration.ofMillis(200)));
        }
        assertEquals(ChangeFeed.ALL, after, "after a lost session every topic is reported");
      }
    }
  }

  /** What the feed reports until {@code expected} came (at most 10 s). */
  private static Set<String> collect(ChangeFeed feed, String expected) throws InterruptedException {
    Set<String> got = new HashSet<>();
    long end = System.nanoTime() + 10_000_000_000L;
    while (!got.contains(expected) && System.nanoTime() < end) {
      got.addAll(feed.await(Duration.ofMillis(200)));
    }
    return got;
  }
}
