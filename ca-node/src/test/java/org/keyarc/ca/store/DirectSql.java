package org.keyarc.ca.store;

import java.sql.Connection;
import java.sql.SQLException;
import org.keyarc.ca.store.jdbc.JdbcStore;

/**
 * A direct edit of the database, as an attacker or an operator with database access would make it: plain
 * JDBC on the store's data source, outside every service and unit of work.
 */
public final class DirectSql {
  private DirectSql() {}

  /** SQL work on one connection. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} on its own connection and commits. */
  public static <T> T run(Store store, Work<T> work) {
    try (Connection c = ((JdbcStore) store).dataSource().getConnection()) {
      T result = work.run(c);
      c.commit();
      return result;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
