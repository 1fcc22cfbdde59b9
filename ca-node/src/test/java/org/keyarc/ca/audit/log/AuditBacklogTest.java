package org.keyarc.ca.audit.log;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.TxWork;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The refusals' audit records while the store fails (the real full disk is {@code cli/DiskFullE2eTest}): kept in
 * order with their own times, written once the store takes writes, and no request served while the backlog is full.
 * The store is a real H2 store; only its failing is switched on and off here.
 */
class AuditBacklogTest {
  private JdbcStore real;
  private volatile boolean down;
  private Store store;

  @BeforeEach
  void open() throws Exception {
    Files.createDirectories(Path.of("target"));
    real = JdbcStore.open(JdbcStore.embeddedUrl(Files.createTempDirectory(Path.of("target"), "backlog-")), "keyarc",
        null, 2);
    store = new Store() {
      @Override
      public <T> T inTransaction(TxWork<T> work) throws CaException {
        if (down) {
          throw new StoreException("store error: No space left on device");
        }
        return real.inTransaction(work);
      }

      @Override
      public <T> T inGroupTransaction(TxWork<T> work) throws CaException {
        return inTransaction(work);
      }

      @Override
      public void useAuditChain(String chain) throws CaException {
        real.useAuditChain(chain);
      }

      @Override
      public String product() {
        return real.product();
      }

      @Override
      public void close() {
        real.close();
      }
    };
  }

  @AfterEach
  void close() {
    real.close();
  }

  private List<AuditStore.Row> rows() throws CaException {
    return real.inTransaction(tx -> tx.audit().records(1, Long.MAX_VALUE));
  }

  @Test
  void recordsWaitInOrderWithTheirOwnTimesAndAreWrittenWhenTheStoreComesBack() throws Exception {
    AuditBacklog backlog = new AuditBacklog(store, 10, 8);
    Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
    backlog.append("peer:10.0.0.1", AuditAction.AUTH_SECRET_REFUSED, "secret:a", "first", t0);
    down = true;
    backlog.append("peer:10.0.0.2", AuditAction.AUTH_SECRET_REFUSED, "secret:b", "second", t0.plusSeconds(1));
    backlog.append("peer:10.0.0.3", AuditAction.AUTH_MAC_FAILED, "secret:c", "third", t0.plusSeconds(2));
    assertEquals(2, backlog.waiting());
    assertEquals(0, backlog.drain(), "nothing is written while the store fails");
    assertEquals(1, rows().size());

    down = false;
    backlog.append("peer:10.0.0.4", AuditAction.AUTH_MAC_FAILED, "secret:d", "fourth", t0.plusSeconds(3));
    assertEquals(3, backlog.waiting(), "a refusal right after a failed attempt queues behind the older ones");
    assertEquals(3, backlog.drain(), "the checkpoint timer's drain writes them");
    List<AuditStore.Row> rows = rows();
    assertEquals(List.of("first", "second", "third", "fourth"), rows.stream().map(r -> r.detail().split(" ")[0])
        .toList(), "the waiting records come first, in order, then the new one");
    assertEquals(t0.plusSeconds(1), rows.get(1).at(), "a late record keeps the time of its refusal");
    assertTrue(rows.get(2).detail().endsWith("(written late: the store failed at " + t0.plusSeconds(2) + ")"),
        rows.get(2).detail());
    assertEquals(0, backlog.waiting());
  }

  @Test
  void aNearlyFullBacklogRefusesRequestsUntilTheStoreTakesIt() throws Exception {
    AuditBacklog backlog = new AuditBacklog(store, 5, 3);
    backlog.requireRoom();
    down = true;
    for (int i = 0; i < 3; i++) {
      backlog.append("peer:10.0.0.9", AuditAction.AUTH_SECRET_REFUSED, "secret:x" + i, "n" + i, Instant.now());
    }
    CaException e = assertThrows(CaException.class, backlog::requireRoom);
    assertEquals(ErrorCode.STORE_ERROR, e.code());
    assertTrue(e.getMessage().contains("3 audit records wait in memory; requests are refused"), e.getMessage());
    down = false;
    backlog.drain();
    backlog.requireRoom();
    assertEquals(3, rows().size());
    assertEquals(0, backlog.waiting());
  }

  @Test
  void recordsBeyondTheCapacityAreCountedAndTheCountIsAudited() throws Exception {
    AuditBacklog backlog = new AuditBacklog(store, 2, 2);
    down = true;
    for (int i = 0; i < 5; i++) {
      backlog.append("peer:10.0.0.9", AuditAction.AUTH_SECRET_REFUSED, "secret:y" + i, "m" + i, Instant.now());
    }
    assertEquals(2, backlog.waiting());
    down = false;
    assertEquals(2, backlog.drain());
    List<AuditStore.Row> rows = rows();
    assertEquals(3, rows.size());
    assertEquals("audit.records.lost", rows.get(2).action());
    assertTrue(rows.get(2).detail().startsWith("3 refusal records could not be kept"), rows.get(2).detail());
  }

  @Test
  void controlCharactersAndOverlongFieldsCannotPoisonTheBacklog() throws Exception {
    AuditBacklog backlog = new AuditBacklog(store, 10, 8);
    down = true;
    backlog.append("CN=Eve\0", AuditAction.KEY_ARCHIVE_REFUSED, "subject:CN=E\u0000ve\u0007", "x".repeat(100_000),
        Instant.now());
    backlog.append("peer:10.0.0.8", AuditAction.AUTH_SECRET_REFUSED, "secret:z", "after", Instant.now());
    down = false;
    assertEquals(2, backlog.drain());
    List<AuditStore.Row> rows = rows();
    assertEquals("subject:CN=E?ve?", rows.get(0).target());
    assertTrue(rows.get(0).detail().length() <= 4000, "cut to its column");
    assertTrue(rows.get(1).detail().startsWith("after"), "the record behind it is written too");
  }

  @Test
  void cleanKeepsLettersAndPairsAndDropsControls() {
    assertEquals("J\u00f6rg \ud83d\ude00?", AuditBacklog.clean("J\u00f6rg \ud83d\ude00\n", 100));
    assertEquals("??", AuditBacklog.clean("\ud800\u0000", 100), "a lone surrogate and NUL");
    assertEquals("abc", AuditBacklog.clean("abcdef", 3));
    assertEquals("a", AuditBacklog.clean("a\ud83d\ude00", 2), "a pair is not cut in half");
  }
}
