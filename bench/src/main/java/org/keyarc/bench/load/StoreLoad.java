package org.keyarc.bench.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.jdbc.JdbcStore;

/**
 * {@code keyarc bench store}: the store's share of an issuance, apart from the node. Each unit of work is what a
 * plain issuance writes (a replay record, a certificate row of a P-256 certificate's size, an audit record), handed
 * to the group commit as the node's workers hand theirs, at most {@code inFlight} at once and, with a rate, paced as
 * a node at that rate paces them. The second half of the units is measured: the commit thread's CPU per unit, this
 * process's CPU per unit, the units per commit, and on the embedded store the file's growth per unit; on a
 * PostgreSQL server on this machine also the CPU of its processes.
 */
final class StoreLoad {
  private static final String COMMIT_THREAD = "keyarc-group-commit";

  private StoreLoad() {}

  /** What one run measured (its second half). */
  record Figures(int units, double perSecond, double commitMsPerUnit, double processMsPerUnit, double unitsPerCommit,
      double fileKbPerUnit, long fileBytes, double serverMsPerUnit) {}

  static Figures run(JdbcStore store, Path file, int units, int rate, int inFlight) throws Exception {
    // the group commit records its sizes in the global registry, which keeps nothing without a registry of its own
    var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    io.micrometer.core.instrument.Metrics.addRegistry(registry);
    try {
      return measure(store, file, units, rate, inFlight, registry.find("keyarc.store.group.commit.size").summary());
    } finally {
      io.micrometer.core.instrument.Metrics.removeRegistry(registry);
      registry.close();
    }
  }

  private static Figures measure(JdbcStore store, Path file, int units, int rate, int inFlight,
      io.micrometer.core.instrument.DistributionSummary commits) throws Exception {
    SecureRandom random = new SecureRandom();
    byte[] der = new byte[560]; // a P-256 end-entity certificate's size
    random.nextBytes(der);
    Semaphore slots = new Semaphore(inFlight);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    var cpu = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);
    var threads = ManagementFactory.getThreadMXBean();
    long commitThread = -1;
    long t0 = 0;
    long commitCpu0 = 0;
    long processCpu0 = 0;
    long file0 = 0;
    long server0 = 0;
    long commits0 = 0;
    double units0 = 0;
    long start = System.nanoTime();
    for (int i = 0; i < units; i++) {
      if (i == units / 2) { // the first half warms the JIT up; the second half is measured, once the first is in
        slots.acquire(inFlight);
        slots.release(inFlight);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
          if (t.getName().equals(COMMIT_THREAD)) {
            commitThread = t.getId();
          }
        }
        t0 = System.nanoTime();
        commitCpu0 = threads.getThreadCpuTime(commitThread);
        processCpu0 = cpu.getProcessCpuTime();
        file0 = file == null ? 0 : Files.size(file);
        server0 = serverTicks();
        commits0 = commits == null ? 0 : commits.count();
        units0 = commits == null ? 0 : commits.totalAmount();
      }
      if (rate > 0) {
        long due = start + (long) (i * 1e9 / rate);
        while (System.nanoTime() < due) {
          LockSupport.parkNanos(50_000);
        }
      }
      slots.acquire();
      byte[] id = new byte[16];
      random.nextBytes(id);
      BigInteger serial = new BigInteger(1, id);
      String tx = HexFormat.of().formatHex(id);
      String nonce = Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong());
      byte[] h = new byte[32];
      random.nextBytes(h);
      Instant now = Instant.now();
      CertRecord cert = new CertRecord("CN=keyarc Bench CA,O=keyarc", serial, "CN=user " + serial.toString(36)
          + ",O=bench", "User", now, now.plusSeconds(86_400L * 365), CertRecord.Status.ISSUED, null, null, null, null,
          HexFormat.of().formatHex(h), now, der, tx, "CN=Bench Client", "cmp");
      store.inGroupTransactionAsync(t -> {
        t.nonces().remember(tx, nonce, now, now);
        t.certificates().insert(cert, 1, 0);
        t.audit().append("CN=Bench Client", "CERT_ISSUED", "serial " + serial.toString(16), "template User", now);
        return null;
      }).whenComplete((v, e) -> {
        if (e != null) {
          failed.compareAndSet(null, e);
        }
        slots.release();
      });
      if (failed.get() != null) {
        break;
      }
    }
    slots.acquire(inFlight);
    if (failed.get() != null) {
      Throwable e = failed.get();
      throw new StoreException("a unit of work failed: " + StoreException.rootMessage(e), e);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    int n = units - units / 2;
    long fileBytes = file == null ? 0 : Files.size(file);
    long serverTicks = serverTicks() - server0;
    long ticksPerSecond = 100; // USER_HZ on Linux
    long commitCount = commits == null ? 0 : commits.count() - commits0;
    double committed = commits == null ? 0 : commits.totalAmount() - units0;
    return new Figures(n, n / seconds, (threads.getThreadCpuTime(commitThread) - commitCpu0) / 1e6 / n,
        (cpu.getProcessCpuTime() - processCpu0) / 1e6 / n, commitCount == 0 ? 0 : committed / commitCount,
        file == null ? 0 : (fileBytes - file0) / 1024.0 / n, fileBytes, serverTicks * 1000.0 / ticksPerSecond / n);
  }

  /** CPU ticks (user + system) of this machine's PostgreSQL server processes, 0 where there are none. */
  static long serverTicks() {
    long ticks = 0;
    try (var procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path p : procs) {
        try {
          String stat = Files.readString(p.resolve("stat"));
          if (stat.contains("(postgres)")) {
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          }
        } catch (IOException | RuntimeException e) {
          // the process ended, or is not ours to read
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return ticks;
  }

  static void print(PrintWriter out, String where, Figures f, boolean embedded) {
    out.printf("store         %s%n", where);
    out.printf("units         %d measured (a replay record, a certificate row and an audit record each), %.0f/s%n",
        f.units(), f.perSecond());
    out.printf("commit thread %.3f ms CPU per unit%n", f.commitMsPerUnit());
    out.printf("this process  %.3f ms CPU per unit (the load's own work included)%n", f.processMsPerUnit());
    if (!embedded) {
      out.printf("server        %.3f ms CPU per unit (this machine's postgres processes)%n", f.serverMsPerUnit());
    }
    out.printf("units/commit  %.2f%n", f.unitsPerCommit());
    if (embedded) {
      out.printf("file          +%.1f KB per unit (%,d KB now)%n", f.fileKbPerUnit(), f.fileBytes() / 1024);
    }
  }
}
