package org.keyarc.ca.store;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.jdbc.JdbcStore;

/**
 * Run in a separate JVM by {@link KillNineTest}: commits certificates one by one to the embedded store
 * in {@code args[0]} and prints "ack N" after each commit returns — the moment a node would answer
 * its client. The parent kills it with SIGKILL mid-stream.
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Store store = JdbcStore.open(JdbcStore.embeddedUrl(Path.of(args[0])), "keyarc", null, 2);
    for (long i = 1; ; i++) {
      long n = i;
      store.inTransaction(tx -> {
        tx.certificates().insert(StoreContract.cert(BigInteger.valueOf(n), "CN=crash " + n));
        Audit.append(tx, "CN=child", AuditAction.CERT_ISSUE, "serial:" + Long.toHexString(n), "", Instant.now());
        return null;
      });
      System.out.println("ack " + n);
      System.out.flush();
    }
  }
}
