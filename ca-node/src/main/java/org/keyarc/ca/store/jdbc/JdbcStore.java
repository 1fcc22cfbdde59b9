package org.keyarc.ca.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.LeaderLock;
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
  static {
    // H2's MVStore, after a failed write (a full disk), can be left with a negative version counter: every later
    // unit of work then spins for ever in MVStore.registerVersionUsage, holding its pooled connection, so the
    // database never closes and never reopens (StoreHealing). The loop's own assertion sees that state and throws
    // instead; with it on (for that one class, before it is loaded), the failure reaches StoreHealing.
    JdbcStore.class.getClassLoader().setClassAssertionStatus("org.h2.mvstore.MVStore", true);
  }


  private final HikariDataSource dataSource;
  private final String product;
  private final GroupCommitter committer;
  private final StoreHealing healing;
  /** The audit chain this store's units of work append to ({@link #useAuditChain}). */
  private volatile String auditChain = org.keyarc.ca.store.AuditStore.MAIN;

  private JdbcStore(HikariDataSource dataSource, String product) {
    this.dataSource = dataSource;
    this.product = product;
    this.healing = new StoreHealing(dataSource);
    this.committer = new GroupCommitter(dataSource, healing, () -> auditChain);
  }

  /**
   * {@inheritDoc} Makes the chain's head row (sequence 0, the chain's genesis hash) when the chain is new: it has
   * neither a head nor records. A chain that has records but lost its head is not made again: appends to it fail
   * until the store is repaired, and {@code audit verify} names what is missing.
   */
  @Override
  public void useAuditChain(String chain) throws CaException {
    if (!org.keyarc.ca.audit.AuditChain.validName(chain)) {
      throw new StoreException("the audit chain's name must be 1 to 64 letters, digits, '.', '_' or '-', not '"
          + org.keyarc.ca.support.Texts.printable(chain) + "'");
    }
    inTransaction(tx -> {
      JdbcAudit.create(((JdbcTx) tx).connection(), chain);
      return null;
    });
    this.auditChain = chain;
  }

  /**
   * The JDBC URL of the embedded database in {@code dir}. {@code WRITE_DELAY=0} makes H2 write each
   * commit to the file before the commit returns (the default buffers commits for 500 ms, which a
   * {@code kill -9} would lose); {@code TRACE_LEVEL_FILE=0}: no trace file. No TCP server: only this process
   * opens the files (see {@link #embeddedUrl(Path, boolean)}).
   */
  public static String embeddedUrl(Path dir) {
    return embeddedUrl(dir, false);
  }

  /**
   * The embedded database's URL; with {@code localServer}, H2's automatic server lets a second local process (the
   * CLI's local commands) open the database while the node holds it: a TCP listener, bound to the loopback
   * interface by the node ({@code h2.bindAddress}) and guarded by the database password.
   */
  public static String embeddedUrl(Path dir, boolean localServer) {
    return "jdbc:h2:file:" + dir.toAbsolutePath().resolve("keyarc") + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0"
        // the statements of one unit of work (an issuance runs about 15) stay parsed and planned: H2 keeps 8 by default
        + ";QUERY_CACHE_SIZE=128"
        // the node closes it after its last audit checkpoint, not H2's own hook; H2 refuses that with its automatic
        // server, so a node serving local commands leaves closing to H2's hook (see docs/operations.md)
        + (localServer ? ";AUTO_SERVER=TRUE" : ";DB_CLOSE_ON_EXIT=FALSE");
  }

  /** The database password's file in the embedded store's folder (0600, generated when the database is made). */
  public static final String PASSWORD_FILE = "db.password";

  /**
   * Opens (or creates) the embedded database in {@code dir}: the folder 0700, a generated password kept in
   * {@link #PASSWORD_FILE} (0600), H2's files 0600. A database made before passwords (an empty one) gets a
   * password now.
   */
  public static JdbcStore openEmbedded(Path dir, String user, boolean localServer, int poolSize)
      throws StoreException {
    try {
      org.keyarc.ca.support.PrivateFiles.createFolder(dir);
      Path pwFile = dir.resolve(PASSWORD_FILE);
      char[] password;
      if (Files.exists(pwFile)) {
        password = readPassword(pwFile);
      } else {
        String generated = generatePassword();
        if (Files.exists(dir.resolve("keyarc.mv.db"))) {
          // a database made without a password: give it one before anyone else can
          try (Connection c = java.sql.DriverManager.getConnection(embeddedUrl(dir, false), user, "")) {
            try (java.sql.Statement st = c.createStatement()) {
              st.execute("ALTER USER \"" + user.toUpperCase(java.util.Locale.ROOT) + "\" SET PASSWORD '" + generated
                  + "'");
            }
          }
        }
        org.keyarc.ca.support.PrivateFiles.writeNew(pwFile, generated.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        password = generated.toCharArray();
      }
      JdbcStore store = open(embeddedUrl(dir, localServer), user, password, poolSize);
      java.util.Arrays.fill(password, '\0');
      for (String f : new String[] {"keyarc.mv.db", "keyarc.lock.db", "keyarc.trace.db"}) {
        org.keyarc.ca.support.PrivateFiles.restrict(dir.resolve(f));
      }
      return store;
    } catch (java.io.IOException | SQLException e) {
      throw new StoreException("cannot open the embedded store in " + dir + ": " + rootMessage(e), e);
    } catch (StoreException e) {
      if (e.getMessage().contains("already in use") || e.getMessage().contains("Wrong user name or password")) {
        throw new StoreException("the embedded store in " + dir + " is held by a running CA node (or its password "
            + "file " + PASSWORD_FILE + " does not match): stop the node, use the remote command with --node, or "
            + "set store.localServer in the node's configuration", e);
      }
      throw e;
    }
  }

  /** The embedded database file's size before and after {@link #compactEmbedded}, in bytes. */
  public record Compaction(Path file, long before, long after) {}

  /**
   * Rewrites the embedded database in {@code dir} with its live data only ({@code SHUTDOWN COMPACT}), with no node
   * running: H2 writes a new chunk of changed pages for every commit and, with {@code WRITE_DELAY=0}, never moves the
   * last live pages out of old chunks while the database is open, so the file grows with every certificate (see
   * docs/operations.md). H2 writes the compacted copy beside the file and renames it over it (a crash leaves the old
   * file, cleaned up at the next open); the data folder is 0700 throughout and the new file is made 0600. Refused when
   * a node holds the store, when there is none in {@code dir}, when others may read the folder or its files (as
   * {@code ca serve} refuses), when this user does not own the file (the node's user could not open the copy), or when
   * the disk has less room than the file's size.
   */
  public static Compaction compactEmbedded(Path dir, String user) throws CaException {
    Path file = dir.resolve("keyarc.mv.db");
    Path pwFile = dir.resolve(PASSWORD_FILE);
    if (!Files.isRegularFile(file)) {
      throw new StoreException("there is no embedded store in " + dir + " (no keyarc.mv.db)");
    }
    // what ca serve refuses, this refuses too: a folder others may enter would show them the copy H2 writes
    org.keyarc.ca.support.PrivateFiles.requirePrivate(dir, "the data folder (dataDir)");
    org.keyarc.ca.support.PrivateFiles.requirePrivate(pwFile, "the database password file");
    org.keyarc.ca.support.PrivateFiles.requirePrivate(file, "the database file");
    try {
      if (!Files.isReadable(file) || !Files.isWritable(file) || !Files.isReadable(pwFile) || !Files.isWritable(dir)) {
        throw new StoreException("cannot compact the embedded store in " + dir + ": this user may not read and write "
            + "keyarc.mv.db, " + PASSWORD_FILE + " and the folder (run it as the node's user)");
      }
      // the copy gets the user who writes it: as another user (root) the node's own user could not open it after
      String me = System.getProperty("user.name");
      String owner = Files.getOwner(file).getName();
      if (!owner.equals(me)) {
        throw new StoreException("cannot compact the embedded store in " + dir + ": keyarc.mv.db belongs to " + owner
            + ", not to " + me + "; run it as " + owner + ", the user the node runs as");
      }
      long before = Files.size(file);
      long free = Files.getFileStore(dir).getUsableSpace();
      if (free < before) { // the copy is at most the file's size
        throw new StoreException("cannot compact the embedded store in " + dir + ": it needs up to " + before / 1024
            + " KB free beside the file, and " + free / 1024 + " KB are");
      }
      char[] password = readPassword(pwFile);
      java.util.Properties props = new java.util.Properties();
      props.setProperty("user", user);
      props.put("password", new String(password));
      java.util.Arrays.fill(password, '\0');
      // no AUTO_SERVER: a node serving the store to local commands must not be shut down from here
      try (Connection c = new org.h2.Driver().connect(embeddedUrl(dir, false) + ";IFEXISTS=TRUE", props);
          java.sql.Statement st = c.createStatement()) {
        st.execute("SHUTDOWN COMPACT");
      }
      // H2 does not report a compaction that failed as it closed (it only traces it): its copy is then left behind;
      // H2's own clean-up (what its next open runs) keeps the whole original, or the whole copy if the original is gone
      if (Files.exists(dir.resolve("keyarc.mv.db.tempFile")) || Files.exists(dir.resolve("keyarc.mv.db.newFile"))) {
        org.h2.mvstore.MVStoreTool.compactCleanUp(file.toString());
        throw new StoreException("the embedded store in " + dir + " was not compacted: H2 could not finish its copy "
            + "(is the disk full?); its leftover was removed and the store is whole");
      }
      org.keyarc.ca.support.PrivateFiles.restrict(file);
      return new Compaction(file, before, Files.size(file));
    } catch (SQLException e) {
      if (e.getErrorCode() == org.h2.api.ErrorCode.DATABASE_ALREADY_OPEN_1) {
        throw new StoreException("the embedded store in " + dir + " is held by a running CA node: stop the node, then "
            + "compact", e);
      }
      throw new StoreException("cannot compact the embedded store in " + dir + ": " + rootMessage(e), e);
    } catch (java.io.IOException e) {
      throw new StoreException("cannot compact the embedded store in " + dir + ": " + rootMessage(e), e);
    }
  }

  /** The embedded database's password, from its 0600 file in the data folder. */
  private static char[] readPassword(Path pwFile) throws java.io.IOException {
    return Files.readString(pwFile).trim().toCharArray();
  }

  private static String generatePassword() {
    java.security.SecureRandom r = new java.security.SecureRandom();
    String alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 32; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
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

  /** {@inheritDoc} On PostgreSQL LISTEN/NOTIFY ({@link PgChangeFeed}); H2 is opened by one node only. */
  @Override
  public org.keyarc.ca.store.ChangeFeed changeFeed() {
    return product.equals("PostgreSQL")
        ? new PgChangeFeed(dataSource.getJdbcUrl(), dataSource.getUsername(), dataSource.getPassword())
        : org.keyarc.ca.store.ChangeFeed.NONE;
  }

  /** {@inheritDoc} On PostgreSQL a session advisory lock ({@link PgLeaderLock}); H2 is opened by one node only. */
  @Override
  public LeaderLock leaderLock() {
    return product.equals("PostgreSQL")
        ? new PgLeaderLock(dataSource.getJdbcUrl(), dataSource.getUsername(), dataSource.getPassword())
        : LeaderLock.SOLE;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public <T> T inTransaction(TxWork<T> work) throws CaException {
    try (Connection c = dataSource.getConnection()) {
      try {
        JdbcTx tx = new JdbcTx(c, new AuditCursor(auditChain));
        T result = work.run(tx);
        tx.beforeCommit();
        c.commit();
        healing.succeeded();
        return result;
      } catch (CaException | RuntimeException e) {
        healing.failed(e);
        c.rollback();
        if (e instanceof StoreException) {
          throw (StoreException) healing.explain(e);
        }
        throw e;
      } catch (SQLException e) { // writing the audit head or the commit itself: nothing of the unit stays
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      healing.failed(e);
      throw (StoreException) healing.explain(StoreException.of(e));
    } catch (AssertionError e) {
      throw healing.failedCheck(e);
    }
  }

  /** {@inheritDoc} The pieces are run by {@link GroupCommitter}. */
  @Override
  public <T> T inGroupTransaction(TxWork<T> work) throws CaException {
    return committer.submit(work);
  }

  @Override
  public <T> java.util.concurrent.CompletableFuture<T> inGroupTransactionAsync(TxWork<T> work) {
    return committer.submitAsync(work);
  }

  @Override
  public boolean awaitIdle(java.time.Duration timeout) {
    return committer.awaitIdle(timeout);
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
