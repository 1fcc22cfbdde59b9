package org.keyarc.bench.load;

import java.io.PrintWriter;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.bench.HsmWorkload;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.cli.CliFiles;
import org.keyarc.cli.EnrollCommand;
import org.keyarc.cli.HsmOptions;
import org.keyarc.cli.Keyarc;
import org.keyarc.cli.NodeOptions;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.Protection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code keyarc bench enroll}: the enrollment load generator. It pre-builds signature-protected cr
 * requests (so that it does not spend, during the run, the CPU it measures), keeps them in flight on C
 * connections, and reports certificates per second, latency percentiles (HdrHistogram) and errors by
 * code. Closed loop by default (P requests in flight per connection); with {@code --rate} open loop at a
 * target rate, latency measured from each request's intended send time (corrected for coordinated
 * omission).
 *
 * <p>The root of its own command line, named "keyarc bench" so that its usage reads as before: {@code ./keyarc
 * bench ...} runs {@link #main} from this module's jar (the CLI module does not depend on this one), with keyarc's
 * version, exit codes and error handling ({@link Keyarc#run(CommandLine, PrintWriter, PrintWriter, String...)}).
 */
@Command(name = "keyarc bench", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    version = Keyarc.VERSION, description = "Load generators.")
public final class BenchCommand {
  @Spec
  CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs {@code keyarc bench ARGS} with the given streams; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return Keyarc.run(new CommandLine(new BenchCommand()), out, err, args);
  }

  @Command(name = "enroll", description = "Enrollment load against a running node, signed with --cert/--key (the "
      + "certificates are for that subject, on the template of that certificate: a holder renews on its own "
      + "template, so --archive needs an ExchangeUserKeyArc certificate).")
  int enroll(@Mixin NodeOptions node,
      @Option(names = "--connections", defaultValue = "2", paramLabel = "C") int connections,
      @Option(names = "--in-flight", defaultValue = "64", paramLabel = "P", description = "per connection") int inFlight,
      @Option(names = "--duration", defaultValue = "10", paramLabel = "S", description = "seconds") int duration,
      @Option(names = "--warmup", defaultValue = "5", paramLabel = "S", description = "seconds of the same load "
          + "before the measured run, not counted (the node's JIT compiler warms up)") int warmup,
      @Option(names = "--rate", defaultValue = "0", paramLabel = "R", description = "open loop at R requests/s "
          + "(0: closed loop)") int rate,
      @Option(names = "--requests", defaultValue = "20000", paramLabel = "N", description = "requests pre-built (the "
          + "run stops early when they are used up)") int requests,
      @Option(names = "--batch", defaultValue = "1", paramLabel = "K", description = "certificates per message "
          + "(CertReqMsg in one cr, 1 to 64): one protection and one answer for K certificates") int batch,
      @Option(names = "--archive", description = "enroll on ExchangeUserKeyArc with archival") boolean archive,
      @Option(names = "--template", paramLabel = "T", description = "default User, or ExchangeUserKeyArc with "
          + "--archive") String template,
      @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE",
          description = "p256 or rsa2048 (the enrollees' keys)")
          String key,
      @Option(names = "--ceiling", description = "also measure, in this process on the CA token (--module, "
          + "--token, --pin-file), the HSM work one enrollment needs, and print ratio = rate / ceiling")
          boolean ceiling,
      @Option(names = "--ceiling-threads", defaultValue = "8", paramLabel = "T", description = "threads for the "
          + "ceiling: the node's hsm.sessions, which is also its worker count (default 8, as the node's)")
      int ceilingThreads,
      @Option(names = "--agents", defaultValue = "1", paramLabel = "N", description = "with --archive --ceiling: "
          + "the node's policy N") int agentsN,
      @Option(names = "--threshold", defaultValue = "1", paramLabel = "M") int thresholdM,
      @Mixin HsmOptions hsm)
      throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (connections < 1 || inFlight < 1 || duration < 1 || requests < 1 || warmup < 0 || batch < 1 || batch > 64) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--connections, --in-flight, --duration and --requests must "
          + "be at least 1, --warmup at least 0, --batch 1 to 64");
    }
    X509CertificateHolder ca = node.trustedCa(true);
    if (node.cert() == null || node.key() == null) {
      throw new Keyarc.UserException(ErrorCode.NOT_AUTHORIZED, "the load is signed with --cert and --key");
    }
    X509CertificateHolder me = CliFiles.readCertificate(node.cert());
    Protection protection = new Protection.Signature(me, CliFiles.readPrivateKey(node.key()),
        org.keyarc.protocol.Bc.PROVIDER);
    String tpl = template != null ? template : archive ? "ExchangeUserKeyArc" : "User";

    // ---- prepare: a pool of enrollee keys (reused: the node does not mind), then every request
    int poolSize = key.startsWith("rsa") ? 16 : 128;
    out.printf("preparing     %d requests (%s%s keys, template %s%s) ...%n", requests,
        batch > 1 ? batch + " certificates each, " : "", key, tpl, archive ? ", archived" : "");
    List<KeyPair> keys = new ArrayList<>();
    for (int i = 0; i < poolSize; i++) {
      keys.add(EnrollCommand.generate(key));
    }
    List<byte[]> prepared = new ArrayList<>(requests);
    List<CmpClient> clients = new ArrayList<>();
    // every binary connection on two event loop threads: a thousand connections need not be a thousand threads
    io.netty.channel.EventLoopGroup loops = new io.netty.channel.nio.NioEventLoopGroup(2);
    try {
      // one connection while preparing (the exchange certificate); the load's connections are opened afterwards,
      // since preparing many requests can outlast the node's idle timeout
      CmpClient preparer = new CmpClient(node.transport(loops), protection, ca);
      clients.add(preparer);
      X509CertificateHolder exchange = archive ? preparer.exchangeCertificate() : null;
      List<EncryptedKey> archives = new ArrayList<>();
      for (KeyPair kp : keys) {
        archives.add(archive ? ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(kp.getPrivate()
            .getEncoded()), exchange, "SHA-1") : null);
      }
      // on every core, with Bouncy Castle's signers (faster than the JDK's for ECDSA): preparing is not measured
      byte[][] built = new byte[requests][];
      java.util.stream.IntStream.range(0, requests).parallel().forEach(i -> {
        List<CmpClient.CertRequestEntry> entries = new ArrayList<>(batch);
        try {
          for (int j = 0; j < batch; j++) {
            int k = (i * batch + j) % poolSize;
            KeyPair kp = keys.get(k);
            String alg = kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            entries.add(new CmpClient.CertRequestEntry(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()),
                new JcaContentSignerBuilder(alg).setProvider(org.keyarc.protocol.Bc.PROVIDER).build(kp.getPrivate()),
                archives.get(k)));
          }
          built[i] = preparer.prepareCertRequests(PKIBody.TYPE_CERT_REQ, me.getSubject(), entries, tpl);
        } catch (CmpClientException | org.bouncycastle.operator.OperatorCreationException e) {
          throw new IllegalStateException("cannot build a request: " + e.getMessage(), e);
        }
      });
      prepared.addAll(java.util.Arrays.asList(built));
      clients.remove(preparer);
      preparer.close();
      for (int c = 0; c < connections; c++) {
        clients.add(new CmpClient(node.transport(loops), protection, ca));
      }
      String mode = rate > 0 ? "open loop at " + rate + "/s" : "closed loop, " + inFlight + " in flight per connection";
      AtomicInteger next = new AtomicInteger();
      if (warmup > 0) {
        out.printf("warming up    %d s%n", warmup);
        // the warm-up may use at most half of the prepared requests: the measured run always has the rest
        List<byte[]> half = prepared.subList(0, prepared.size() / 2);
        Result w = rate > 0 ? openLoop(clients, half, next, rate, warmup)
            : closedLoop(clients, half, next, inFlight, warmup);
        if (!w.errors.isEmpty()) {
          out.println("warm-up errors " + new TreeMap<>(w.errors));
        }
      }
      out.printf("running       %s, %d connection%s, %s, %d s%n", node.url(), connections, connections == 1 ? "" : "s",
          mode, duration);
      CpuUse cpu = CpuUse.start();
      Result r = rate > 0 ? openLoop(clients, prepared, next, rate, duration)
          : closedLoop(clients, prepared, next, inFlight, duration);
      report(out, r);
      out.println("cpu           " + cpu.stop());
      if (ceiling) {
        double rateNow = r.ok.get() / (r.elapsedNanos / 1e9);
        double c = ceiling(hsm, archive ? org.keyarc.hsm.KeySpec.parse(key) : null, agentsN, thresholdM,
            ceilingThreads, batch, 5);
        out.printf("ceiling       %.0f enrollments/s of HSM work alone (%d threads: %s%s)%n", c, ceilingThreads,
            batch == 1 ? "2 CA signatures" : "per message of " + batch + ", " + (batch + 1) + " CA signatures",
            archive ? " + the archival chain" + (batch == 1 ? "" : " each") + ", " + thresholdM + " of " + agentsN
                : "");
        out.printf("ratio         %.2f (end-to-end rate / ceiling)%n", rateNow / c);
      }
      return r.ok.get() > 0 ? 0 : 1;
    } finally {
      for (CmpClient c : clients) {
        c.close();
      }
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  @Command(name = "hostile", description = "The fuzz campaign's hostile message classes (issue 14) against a "
      + "running node, each sent --count times on one connection: the node's answer and, with --node-pid (the "
      + "node on this host), its CPU per message next to a genm for the CA certificates. With --cert/--key also the "
      + "key-policy classes, signed by that certificate.")
  int hostile(@Mixin NodeOptions node,
      @Option(names = "--count", defaultValue = "200", paramLabel = "N") int count,
      @Option(names = "--node-pid", defaultValue = "0", paramLabel = "PID") long pid) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (count < 1 || count > 100_000) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--count must be 1 to 100000");
    }
    X509CertificateHolder ca = node.trustedCa(true);
    X509CertificateHolder me = node.cert() == null ? null : CliFiles.readCertificate(node.cert());
    org.bouncycastle.operator.ContentSigner signer = null;
    if (me != null && node.key() != null) {
      java.security.PrivateKey k = CliFiles.readPrivateKey(node.key());
      signer = new JcaContentSignerBuilder(k.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
          .setProvider(org.keyarc.protocol.Bc.PROVIDER).build(k);
    }
    io.netty.channel.EventLoopGroup loops = new io.netty.channel.nio.NioEventLoopGroup(1);
    try (org.keyarc.protocol.client.CmpTransport t = node.transport(loops)) {
      List<HostileInput.Kind> kinds = HostileInput.kinds(ca, me, signer);
      byte[] baseline = kinds.get(0).build().call();
      for (int i = 0; i < Math.max(count, 500); i++) { // warm the node's JIT up on the baseline
        t.send(baseline).get(30, TimeUnit.SECONDS);
      }
      out.printf("%-58s %-34s %12s %14s %6s%n", "message class", "the node's answer", "wall/msg", "node CPU/msg",
          "ratio");
      double base = -1;
      for (HostileInput.Kind kind : kinds) {
        List<byte[]> msgs = new ArrayList<>();
        for (int i = 0; i < (kind.fresh() ? count + 1 : 1); i++) {
          msgs.add(kind.build().call());
        }
        String answer = HostileAnswer.describe(t.send(msgs.get(0)).get(30, TimeUnit.SECONDS));
        long cpu0 = pid > 0 ? HostileInput.cpuNanos(pid) : -1;
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
          t.send(msgs.get(kind.fresh() ? i + 1 : 0)).get(30, TimeUnit.SECONDS);
        }
        double wall = (System.nanoTime() - t0) / 1e6 / count;
        long cpu1 = pid > 0 ? HostileInput.cpuNanos(pid) : -1;
        double cpu = cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / 1e6 / count : -1;
        if (base < 0) {
          base = cpu > 0 ? cpu : wall;
        }
        out.printf("%-58s %-34s %9.3f ms %11s %6s%n", kind.name(), answer, wall, cpu >= 0
            ? String.format("%.3f ms", cpu) : "-", String.format("%.1f", (cpu >= 0 ? cpu : wall) / base));
      }
      return 0;
    } finally {
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  @Command(name = "fsync", description = "The disk's own commit latency: --count writes of 4 KiB, each forced to the "
      + "disk (FileChannel.force, as a database commit), in a file under --dir (the node's data folder, so the same "
      + "disk), at most --rate per second; prints p50/p90/p99/max. Run beside a load to see what a group commit "
      + "waits for.")
  int fsync(@Option(names = "--dir", required = true, paramLabel = "DIR") java.nio.file.Path dir,
      @Option(names = "--count", defaultValue = "1000", paramLabel = "N") int count,
      @Option(names = "--rate", defaultValue = "200", paramLabel = "R", description = "writes per second at most")
      int rate) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (count < 1 || count > 1_000_000 || rate < 1) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--count must be 1 to 1000000, --rate at least 1");
    }
    if (!java.nio.file.Files.isDirectory(dir)) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--dir " + dir + " is not a folder");
    }
    java.nio.file.Path file = java.nio.file.Files.createTempFile(dir, "keyarc-fsync-", ".probe");
    Histogram h = new Histogram(3);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer block = java.nio.ByteBuffer.allocate(4096);
      long gap = 1_000_000_000L / rate;
      long next = System.nanoTime();
      for (int i = 0; i < count; i++) {
        block.clear();
        ch.write(block, (long) (i % 256) * 4096);
        long t0 = System.nanoTime();
        ch.force(false);
        h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
        next += gap;
        long sleep = next - System.nanoTime();
        if (sleep > 0) {
          TimeUnit.NANOSECONDS.sleep(sleep);
        }
      }
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
    out.printf("fsync         %d writes of 4 KiB forced to the disk under %s%n", count, dir);
    out.printf("fsync latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
    return 0;
  }

  @Command(name = "store", description = "The store's share of a plain issuance, apart from the node: --units units "
      + "of work (a replay record, a certificate row, an audit record) through the group commit, --in-flight at once, "
      + "at most --rate per second; prints, for the second half, the commit thread's and this process's CPU per unit, "
      + "the units per commit and, on the embedded store (a new one under --dir, removed after), the file's growth "
      + "per unit. --url runs it on a PostgreSQL database instead (password from KEYARC_STORE_PASSWORD).")
  int store(@Option(names = "--dir", paramLabel = "DIR", description = "folder for the embedded store (default: "
          + "the system's temporary folder)") java.nio.file.Path dir,
      @Option(names = "--url", paramLabel = "JDBC", description = "a PostgreSQL database to use instead (its "
          + "tables are made as the node makes them)") String url,
      @Option(names = "--user", defaultValue = "postgres", paramLabel = "NAME", description = "with --url") String user,
      @Option(names = "--units", defaultValue = "20000", paramLabel = "N") int units,
      @Option(names = "--rate", defaultValue = "600", paramLabel = "R", description = "units per second at most "
          + "(0: as fast as the store takes them)") int rate,
      @Option(names = "--in-flight", defaultValue = "64", paramLabel = "P") int inFlight) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (units < 2 || units > 10_000_000 || rate < 0 || inFlight < 1 || inFlight > 4096) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--units must be 2 to 10000000, --rate at least 0, "
          + "--in-flight 1 to 4096");
    }
    if (url != null) {
      if (!url.startsWith("jdbc:postgresql:")) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--url must be a jdbc:postgresql: URL");
      }
      String pw = System.getenv("KEYARC_STORE_PASSWORD");
      try (JdbcStore store = JdbcStore.open(url, user, pw == null ? null : pw.toCharArray(), 8)) {
        StoreLoad.print(out, store.product() + " (" + url.replaceAll("\\?.*", "") + ")",
            StoreLoad.run(store, null, units, rate, inFlight), false);
      }
      return 0;
    }
    java.nio.file.Path parent = dir != null ? dir : java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
    if (!java.nio.file.Files.isDirectory(parent)) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--dir " + parent + " is not a folder");
    }
    java.nio.file.Path data = java.nio.file.Files.createTempDirectory(parent, "keyarc-store-");
    try {
      StoreLoad.Figures f;
      try (JdbcStore store = JdbcStore.openEmbedded(data, "keyarc", false, 8)) {
        f = StoreLoad.run(store, data.resolve("keyarc.mv.db"), units, rate, inFlight);
      }
      StoreLoad.print(out, "H2 embedded, as the node opens it (" + data + ")", f, true);
    } finally {
      try (var files = java.nio.file.Files.walk(data)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    return 0;
  }

  /** What a run measured. */
  static final class Result {
    final Recorder latency = new Recorder(3);
    final AtomicLong ok = new AtomicLong();
    final AtomicLong answers = new AtomicLong();
    final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
    long elapsedNanos;
    volatile boolean ranOut;

    void error(String kind) {
      errors.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }
  }

  /**
   * Counts an answer. Every answer is parsed and each of its certificates must be granted; one in
   * {@link #VERIFY_EVERY} also has its protection and certificate checked in full, so that the generator
   * does not spend on verification the CPU it measures (client and node often share the machine).
   */
  private static void complete(Result r, CmpClient client, byte[] answer, Throwable failure, long startNanos) {
    long micros = (System.nanoTime() - startNanos) / 1000;
    if (failure != null) {
      Throwable f = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      r.error(f instanceof CmpClientException c ? c.code().name() : f.getClass().getSimpleName());
      return;
    }
    try {
      if (r.answers.incrementAndGet() % VERIFY_EVERY == 0) {
        for (CmpClient.CertResult c : client.certificatesOf(answer)) { // protection and certificates in full
          count(r, c.refusal() == null ? null : c.refusal().code().name(), micros);
        }
        return;
      }
      org.bouncycastle.asn1.cmp.PKIMessage m = org.bouncycastle.asn1.cmp.PKIMessage.getInstance(answer);
      if (m.getBody().getType() == PKIBody.TYPE_ERROR) {
        client.certificateOf(answer); // throws with the error's code
      }
      for (org.bouncycastle.asn1.cmp.CertResponse resp : org.bouncycastle.asn1.cmp.CertRepMessage.getInstance(
          m.getBody().getContent()).getResponse()) {
        boolean granted = resp.getStatus().getStatus().intValue() <= 1 && resp.getCertifiedKeyPair() != null;
        count(r, granted ? null : CmpClient.refusal(resp.getStatus()).code().name(), micros);
      }
    } catch (CmpClientException e) {
      r.error(e.code().name());
    } catch (RuntimeException e) {
      r.error("MALFORMED_ANSWER");
    }
  }

  /** One certificate granted (error null) or refused, answered after {@code micros}. */
  private static void count(Result r, String error, long micros) {
    if (error != null) {
      r.error(error);
      return;
    }
    r.ok.incrementAndGet();
    r.latency.recordValue(Math.max(1, micros));
  }

  static final int VERIFY_EVERY = 100;

  /** Closed loop: each lane sends its next request when the last is answered; {@code next} indexes prepared. */
  private static Result closedLoop(List<CmpClient> clients, List<byte[]> prepared, AtomicInteger next, int inFlight,
      int duration) throws InterruptedException {
    Result r = new Result();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(duration);
    CountDownLatch lanes = new CountDownLatch(clients.size() * inFlight);
    for (CmpClient client : clients) {
      for (int lane = 0; lane < inFlight; lane++) {
        sendNext(r, client, prepared, next, end, lanes);
      }
    }
    lanes.await(duration + 60L, TimeUnit.SECONDS);
    r.elapsedNanos = System.nanoTime() - start;
    return r;
  }

  /** One lane of the closed loop: send, and on the answer send the next, until time or requests run out. */
  private static void sendNext(Result r, CmpClient client, List<byte[]> prepared, AtomicInteger next, long end,
      CountDownLatch lanes) {
    int i = next.getAndIncrement();
    if (i >= prepared.size() || System.nanoTime() >= end) {
      if (i >= prepared.size() && System.nanoTime() < end) {
        r.ranOut = true;
      }
      lanes.countDown();
      return;
    }
    long sent = System.nanoTime();
    client.transport().send(prepared.get(i)).whenComplete((answer, failure) -> {
      complete(r, client, answer, failure, sent);
      sendNext(r, client, prepared, next, end, lanes);
    });
  }

  /**
   * Open loop: request i is due at start + i / rate whether or not earlier ones were answered, and its latency
   * counts from when it was due (no coordinated omission).
   */
  private static Result openLoop(List<CmpClient> clients, List<byte[]> all, AtomicInteger next, int rate,
      int duration) throws InterruptedException {
    Result r = new Result();
    int first = next.get();
    int total = (int) Math.max(0, Math.min(all.size() - first, (long) rate * duration));
    next.addAndGet(total);
    r.ranOut = total < (long) rate * duration;
    List<byte[]> prepared = all.subList(first, first + total);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    CountDownLatch done = new CountDownLatch(total);
    long start = System.nanoTime();
    long interval = 1_000_000_000L / rate;
    AtomicInteger sent = new AtomicInteger();
    timer.scheduleAtFixedRate(() -> {
      long now = System.nanoTime();
      // send every request whose intended time has come; latency counts from that intended time
      while (sent.get() < total && start + sent.get() * interval <= now) {
        int i = sent.getAndIncrement();
        long intended = start + i * interval;
        CmpClient client = clients.get(i % clients.size());
        client.transport().send(prepared.get(i)).whenComplete((answer, failure) -> {
          complete(r, client, answer, failure, intended);
          done.countDown();
        });
      }
    }, 0, Math.max(100_000, interval), TimeUnit.NANOSECONDS);
    done.await(duration + 60L, TimeUnit.SECONDS);
    timer.shutdownNow();
    r.elapsedNanos = System.nanoTime() - start;
    return r;
  }

  /** Runs the HSM work of one enrollment as fast as {@code threads} threads can, for {@code seconds}. */
  private static double ceiling(HsmOptions hsm, org.keyarc.hsm.KeySpec userKey, int n, int m, int threads,
      int batch, int seconds) throws Exception {
    try (org.keyarc.hsm.HsmModule module = hsm.load(); org.keyarc.hsm.HsmToken token = hsm.open(module, true);
        HsmWorkload w = new HsmWorkload(token, org.keyarc.hsm.KeySpec.EC_P256, userKey, n, m)) {
      runFor(w, threads, batch, 2, new AtomicLong()); // warm-up, not counted: the JIT compiles the software layers
      AtomicLong failures = new AtomicLong();
      long start = System.nanoTime();
      long done = runFor(w, threads, batch, seconds, failures);
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (failures.get() > 0) {
        throw new Keyarc.UserException(ErrorCode.HSM_ERROR, failures.get() + " ceiling runs failed");
      }
      return done / elapsed;
    }
  }

  /** Runs the workload on {@code threads} threads for {@code seconds}; returns how many enrollments completed. */
  private static long runFor(HsmWorkload w, int threads, int batch, int seconds,
      AtomicLong failures) throws InterruptedException {
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> ts = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        while (System.nanoTime() < end) {
          try {
            w.run(batch);
            done.addAndGet(batch);
          } catch (Exception e) {
            failures.incrementAndGet();
          }
        }
      });
      t.start();
      ts.add(t);
    }
    for (Thread t : ts) {
      t.join();
    }
    return done.get();
  }

  /**
   * Where the machine's CPU went during the measured run: this load generator's own share (its process's CPU time),
   * and the whole machine's (Linux /proc/stat: all but idle and iowait), the difference being the node's and
   * anything else running. On one machine the generator competes with the node for the same cores.
   */
  private record CpuUse(long wallNanos, long ownNanos, double machineSeconds) {
    static CpuUse start() {
      return new CpuUse(System.nanoTime(), ownCpu(), machineBusySeconds());
    }

    String stop() {
      double wall = (System.nanoTime() - wallNanos) / 1e9;
      double own = (ownCpu() - ownNanos) / 1e9 / wall;
      int cores = Runtime.getRuntime().availableProcessors();
      double busy = machineBusySeconds();
      if (busy < 0 || machineSeconds < 0) {
        return String.format("load generator %.2f of %d cores", own, cores);
      }
      double all = (busy - machineSeconds) / wall;
      return String.format("%.2f of %d cores busy: load generator %.2f, the node and the rest %.2f", all, cores, own,
          all - own);
    }

    private static long ownCpu() {
      return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
          instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
    }

    /** CPU seconds the machine has been busy since boot, or -1 where /proc/stat cannot be read. */
    private static double machineBusySeconds() {
      try {
        String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
          if (i != 4 && i != 5) { // idle, iowait
            busy += Long.parseLong(f[i]);
          }
        }
        return busy / 100.0; // USER_HZ, 100 on Linux
      } catch (java.io.IOException | RuntimeException e) {
        return -1;
      }
    }
  }

  private static void report(PrintWriter out, Result r) {
    Histogram h = r.latency.getIntervalHistogram();
    double seconds = r.elapsedNanos / 1e9;
    out.printf("certificates  %d in %.1f s = %.0f/s%n", r.ok.get(), seconds, r.ok.get() / seconds);
    out.printf("latency       p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0);
    Map<String, AtomicLong> sorted = new TreeMap<>(r.errors);
    out.println("errors        " + (sorted.isEmpty() ? "none" : sorted.toString()));
    if (r.ranOut) {
      out.println("note          the prepared requests ran out before the time was up; raise --requests");
    }
  }
}
