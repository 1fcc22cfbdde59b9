package org.keyarc.ca.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.TxWork;

/**
 * The CA's durable store on JDBC: a pooled JDBC data source (HikariCP) whose schema is migrated by Flyway at
 * open. Two databases are supported with the same SQL: H2 in a local file (the embedded default, one
 * node) and PostgreSQL (several nodes sharing one database).
 *
 * <p>Every change goes through {@link #inTransaction}: the work runs on one connection and either
 * commits as a whole or rolls back as a whole, which is how a certificate, its request and its audit
 * record land together or not at all.
 */
public final class JdbcStore implements Store {

  private final HikariDataSource dataSource;
  private final String product;
  private final GroupCommitter committer;

  private JdbcStore(HikariDataSource dataSource, String product) {
    this.dataSource = dataSource;
    this.product = product;
    this.committer = new GroupCommitter(dataSource);
  }

  /**
   * The JDBC URL of the embedded database in {@code dir}. {@code WRITE_DELAY=0} makes H2 write each
   * commit to the file before the commit returns (the default buffers commits for 500 ms, which a
   * {@code kill -9} would lose); {@code AUTO_SERVER} lets a second local process (the CLI) open the
   * database while the node holds it.
   */
  public static String embeddedUrl(Path dir) {
    return "jdbc:h2:file:" + dir.toAbsolutePath().resolve("keyarc") + ";WRITE_DELAY=0;AUTO_SERVER=TRUE";
  }

  /** Opens the store and migrates its schema to the current version. */
  public static JdbcStore open(String url, String user, char[] password, int poolSize) throws StoreException {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url);
    cfg.setUsername(user);
    if (password != null) {
      cfg.setPassword(new String(password));
    }
    cfg.setMaximumPoolSize(poolSize);
    cfg.setMinimumIdle(1);
    cfg.setAutoCommit(false);
    cfg.setPoolName("keyarc-store");
    cfg.setConnectionTimeout(10_000);
    cfg.setInitializationFailTimeout(10_000);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(cfg);
    } catch (RuntimeException e) {
      throw new StoreException("cannot open the store at " + redactUrl(url) + ": " + rootMessage(e), e);
    }
    try {
      Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
      String product;
      try (Connection c = ds.getConnection()) {
        product = c.getMetaData().getDatabaseProductName();
      }
      return new JdbcStore(ds, product);
    } catch (FlywayException | SQLException e) {
      ds.close();
      throw new StoreException("cannot migrate the store at " + redactUrl(url) + ": " + rootMessage(e), e);
    }
  }

  @Override
  public String product() {
    return product;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public <T> T inTransaction(TxWork<T> work) throws CaException {
    try (Connection c = dataSource.getConnection()) {
      try {
        T result = work.run(new JdbcTx(c));
        c.commit();
        return result;
      } catch (CaException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw StoreException.of(e);
    }
  }

  /** {@inheritDoc} The pieces are run by {@link GroupCommitter}. */
  @Override
  public <T> T inGroupTransaction(TxWork<T> work) throws CaException {
    return committer.submit(work);
  }

  @Override
  public void close() {
    committer.close();
    dataSource.close();
  }

  private static String redactUrl(String url) {
    return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
  }

  static String rootMessage(Throwable e) {
    return StoreException.rootMessage(e);
  }
}
