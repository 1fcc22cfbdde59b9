package org.keyarc.ca.store;

import java.sql.SQLException;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/** The store could not do what was asked (database unreachable, constraint broken, migration failed). */
public class StoreException extends CaException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(ErrorCode.STORE_ERROR, message, cause);
  }

  public StoreException(String message) {
    super(ErrorCode.STORE_ERROR, message);
  }

  /** A database failure, with the first line of its root cause as the message. */
  public static StoreException of(SQLException e) {
    return new StoreException("store error: " + rootMessage(e), e);
  }

  /** True when the cause is a unique-constraint violation (SQLState class 23). */
  public boolean isConstraintViolation() {
    for (Throwable t = getCause(); t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("23")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first line of the innermost cause's message, fit to reach a client: file paths (H2 names its database files)
   * and the SQL statement with its values (H2 quotes it) are left out; the node's log has the full cause.
   */
  public static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName()
        : scrub(t.getMessage().lines().findFirst().orElse(""));
  }

  /**
   * Absolute paths (also after a scheme's colon, as in {@code jdbc:h2:/var/...} or {@code file:/...}, but not a URL's
   * {@code //host/path}); relative paths of three parts or more ({@code data/store/x}); and two-part relative paths
   * that end in a file name with an extension ({@code data/keyarc.mv.db}), so that "and/or" and "TCP/IP" stay.
   */
  private static final java.util.regex.Pattern PATH = java.util.regex.Pattern.compile(
      "(?<![\\w/])(?:[A-Za-z]:)?(?:[/\\\\][^/\\\\\"'\\s]*[^/\\\\\"'\\s:;,)]){2,}"
      + "|(?<![\\w/.:-])(?:\\.{1,2}/)?[\\w.-]+(?:/[\\w.-]+){2,}"
      + "|(?<![\\w/.:-])(?:\\.{1,2}/)?[\\w.-]+/[\\w-]+(?:\\.\\w{1,8})+\\b");

  /** {@code message} without file paths and without the SQL statement H2 appends. */
  static String scrub(String message) {
    String m = message;
    int sql = m.indexOf("; SQL statement:");
    if (sql >= 0) {
      m = m.substring(0, sql);
    }
    int values = m.indexOf(" VALUES ");
    if (values >= 0) { // H2's constraint violations quote the row's values
      m = m.substring(0, values) + "\"";
    }
    // H2's lock timeouts quote the locked row ("Map entry <table.39> with key <1> and value (...) is locked")
    m = m.replaceAll("Map entry <[^>]*> with key <[^>]*> and value \\(.*\\) (<file> )?(\\(.*\\) )?is locked",
        "a row is locked");
    return PATH.matcher(m).replaceAll("<file>");
  }
}
