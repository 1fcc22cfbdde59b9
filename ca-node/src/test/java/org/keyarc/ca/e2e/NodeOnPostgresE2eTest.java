package org.keyarc.ca.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.PostgresFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node on PostgreSQL (the multi-node store): concurrent enrollments, restart, an intact audit chain. */
class NodeOnPostgresE2eTest {

  @Test
  void nodeRunsOnPostgres() throws Exception {
    try (PostgresFixture pg = PostgresFixture.start()) {
      String url = pg.newDatabase("keyarc_node");
      try (TestCa ca = TestCa.start(cfg -> {
        cfg.store.url = url;
        cfg.store.user = "postgres";
      })) {
        assertEquals("PostgreSQL", ca.services().store().product());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<TestCa.Enrollee>> jobs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          int n = i;
          jobs.add(pool.submit(() -> ca.enrollUser("CN=Pg User " + n)));
        }
        for (Future<TestCa.Enrollee> f : jobs) {
          f.get();
        }
        pool.shutdown();
        ca.node.close();
        ca.node = CaNode.start(ca.cfg);
        assertEquals(8, (long) ca.services().store().inTransaction(tx -> tx.certificates().count()));
        ca.services().audit().checkpoint();
        AuditChain.Verification v = AuditService.verify(ca.services().store(), ca.services().keys().token());
        assertTrue(v.ok(), v.problems().toString());
        assertTrue(v.records() >= 8 * 3, "secret, issue and confirm records for each: " + v.records());
      }
    }
  }

  /** Issue 16: {@code /health} checks the store, so a load balancer takes a node whose database is gone out. */
  @Test
  void healthSaysNotReadyOnceTheDatabaseIsGone() throws Exception {
    PostgresFixture pg = PostgresFixture.start();
    String url = pg.newDatabase("keyarc_health");
    try (TestCa ca = TestCa.start(cfg -> {
      cfg.store.url = url;
      cfg.store.user = "postgres";
    })) {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      java.net.URI health = java.net.URI.create(ca.httpUrl() + "health");
      java.net.http.HttpResponse<String> ok = http.send(java.net.http.HttpRequest.newBuilder(health).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode(), ok.body());
      pg.close(); // the database server stops
      long end = System.nanoTime() + 15_000_000_000L;
      java.net.http.HttpResponse<String> r;
      do {
        Thread.sleep(200);
        r = http.send(java.net.http.HttpRequest.newBuilder(health).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
      } while (r.statusCode() == 200 && System.nanoTime() < end);
      assertEquals(503, r.statusCode(), r.body());
      assertEquals("not ready: the store does not answer", r.body().strip(), "no store detail in the answer");
    }
  }
}
