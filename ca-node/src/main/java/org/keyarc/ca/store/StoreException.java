package org.keyarc.ca.store;

/** The store could not do what was asked (database unreachable, constraint broken, migration failed). */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public StoreException(String message) {
    super(message);
  }

  /** True when the cause is a unique-constraint violation (SQLState class 23). */
  public boolean isConstraintViolation() {
    for (Throwable t = getCause(); t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("23")) {
        return true;
      }
    }
    return false;
  }
}
