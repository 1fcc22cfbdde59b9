package org.keyarc.ca.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CrlStore;
import org.keyarc.ca.store.PostgresFixture;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;
import org.keyarc.protocol.tls.TlsPolicy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: three CA nodes, each in its own JVM, on one real PostgreSQL and one SoftHSM2 token folder. First the
 * finding — concurrent revocations spread over the nodes — must give no error and consistent CRLs (unique,
 * increasing numbers; the newest lists every revocation). Then plain and archival enrollments over all nodes while
 * the leader is killed with SIGKILL: another node takes the lead within seconds, the killed one is restarted, and
 * afterwards every acknowledged certificate is in the store, no archival certificate lacks its archive, no serial
 * is there twice, and every node's audit chain verifies, all covered by the leader's last checkpoint.
 */
class ClusterE2eTest {
  private static final int NODES = 3;

  @Test
  void threeNodesOnOnePostgresAgreeAndSurviveTheLeadersDeath() throws Exception {
    try (PostgresFixture pg = PostgresFixture.start()) {
      String url = pg.newDatabase("keyarc_cluster");
      TestCa ca = TestCa.start(cfg -> {
        cfg.store.url = url;
        cfg.store.user = "postgres";
        cfg.timers.auditCheckpointSeconds = 1;
      }, "kra1", "kra2", "kra3");
      List<Agents.Card> cards = new ArrayList<>();
      List<Process> nodes = new ArrayList<>();
      try {
        for (String n : List.of("kra1", "kra2", "kra3")) {
          cards.add(Agents.enroll(ca, n));
        }
        ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
        X509CertificateHolder caCert = ca.caCert();
        X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
        List<SecretService.NewSecret> revokers = new ArrayList<>();
        List<SecretService.NewSecret> plain = new ArrayList<>();
        List<SecretService.NewSecret> archival = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
          revokers.add(ca.secret("User", "CN=Revoker " + i));
          plain.add(ca.secret("User", "CN=Cluster Plain " + i));
          archival.add(ca.secret("ExchangeUserKeyArc", "CN=Cluster Archival " + i));
        }
        SecretService.NewSecret late = ca.secret("User", "CN=After Restart");
        List<SecretService.NewSecret> crossNode = List.of(ca.secret("User", "CN=Cross Node Plain"),
            ca.secret("ExchangeUserKeyArc", "CN=Cross Node Archival"));
        ca.node.close();
        List<Path> yamls = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
          NodeConfig c = new ObjectMapper(new YAMLFactory()).readValue(new ObjectMapper(new YAMLFactory())
              .writeValueAsBytes(ca.cfg), NodeConfig.class);
          c.dataDir = ca.dir.resolve("node-" + i).toString(); // its own export file; the store is shared
          c.audit.chain = "node-" + i; // its own audit chain: no node waits on another's appends
          Path y = ca.dir.resolve("node-" + i + ".yaml");
          new ObjectMapper(new YAMLFactory()).writeValue(y.toFile(), c);
          yamls.add(y);
        }
        int[][] ports = new int[NODES][];
        for (int i = 0; i < NODES; i++) { // one after the other, as an operator starts them
          nodes.add(NodeChild.start(yamls.get(i)));
          ports[i] = NodeChild.ports(nodes.get(i));
        }
        Client client = new Client(caCert);

        // 1. the finding: concurrent revocations spread over the nodes
        List<TestCa.Enrollee> toRevoke = new ArrayList<>();
        for (int i = 0; i < revokers.size(); i++) {
          toRevoke.add(client.enroll(ports[i % NODES][0], revokers.get(i), null));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> jobs = new ArrayList<>();
        for (int i = 0; i < toRevoke.size(); i++) {
          TestCa.Enrollee e = toRevoke.get(i);
          int port = ports[(i + 1) % NODES][0];
          jobs.add(pool.submit(() -> {
            try (CmpClient c = new CmpClient(CmpTransport.connect("tls://127.0.0.1:" + port, client.tls),
                new Protection.Signature(e.cert(), e.keys().getPrivate(), null), caCert)) {
              c.revoke(caCert.getSubject(), e.serial(), 1);
            }
            return null;
          }));
        }
        for (Future<?> f : jobs) {
          f.get(); // no error: a failure here fails the test
        }

        // a transaction that starts on one node and ends on another, as HTTP behind a load balancer does it: the
        // ir (plain and archival) goes to one node, its certConf to the next
        List<BigInteger> crossed = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          SecretService.NewSecret s = crossNode.get(i);
          try (CmpClient c = new CmpClient(new RoundRobin(CmpTransport.connect("tls://127.0.0.1:" + ports[i][0],
              client.tls), CmpTransport.connect("tls://127.0.0.1:" + ports[i + 1][0], client.tls)),
              new Protection.Mac(s.reference(), s.secret(), false), caCert)) {
            KeyPair kp = TestCa.ecKey();
            CmpClient.Enrolled e = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(s.subject()), TestCa.spki(kp),
                TestCa.pop(kp), null, false, null, i == 1 ? ArchiveEncryption.encryptedValue(PrivateKeyInfo
                .getInstance(kp.getPrivate().getEncoded()), exchange, "SHA-1") : null).enrolled();
            assertTrue(e.confirmed(), "the certConf, sent to the other node, was answered pkiConf");
            crossed.add(e.cert().getSerialNumber());
          }
        }

        // 2. load over all nodes, the leader killed mid-run
        int leader = awaitLeader(ports, -1);
        Map<BigInteger, String> acked = new ConcurrentHashMap<>();
        AtomicBoolean leaderDead = new AtomicBoolean();
        java.util.concurrent.CountDownLatch firstEight = new java.util.concurrent.CountDownLatch(8);
        jobs.clear();
        for (int t = 0; t < 6; t++) {
          int thread = t;
          jobs.add(pool.submit(() -> {
            for (int i = thread; i < plain.size(); i += 6) {
              for (SecretService.NewSecret s : List.of(plain.get(i), archival.get(i))) {
                int node = (i + thread) % NODES;
                if (node == leaderIndex(leaderDead, leader)) {
                  node = (node + 1) % NODES; // a load balancer takes a dead node out
                }
                try {
                  TestCa.Enrollee e = client.enroll(ports[node][0], s, s.template().equals("ExchangeUserKeyArc")
                      ? exchange : null);
                  acked.put(e.serial(), s.subject());
                  firstEight.countDown();
                } catch (Exception ex) {
                  // killed under this request: not acknowledged
                }
              }
            }
            return null;
          }));
        }
        assertTrue(firstEight.await(120, TimeUnit.SECONDS), "eight enrollments acknowledged before the kill");
        nodes.get(leader).destroyForcibly(); // SIGKILL
        leaderDead.set(true);
        assertTrue(nodes.get(leader).waitFor(30, TimeUnit.SECONDS));
        long killedAt = System.nanoTime();
        int next = awaitLeader(ports, leader);
        double failover = (System.nanoTime() - killedAt) / 1e9;
        assertTrue(next >= 0 && next != leader, "another node took the lead");
        System.err.printf("CLUSTER: leader failover in %.1f s (node %d -> node %d)%n", failover, leader, next);
        for (Future<?> f : jobs) {
          f.get();
        }
        pool.shutdown();
        nodes.set(leader, NodeChild.start(yamls.get(leader))); // restarted on the same store and token
        ports[leader] = NodeChild.ports(nodes.get(leader));
        acked.put(client.enroll(ports[leader][0], late, null).serial(), late.subject());
        assertTrue(acked.size() >= 10, acked.size() + " acknowledged");

        // stop the nodes that do not lead first: the leader's last checkpoint then covers everything
        int lead = awaitLeader(ports, -1);
        for (int i = 0; i < NODES; i++) {
          if (i != lead) {
            stop(nodes.get(i));
          }
        }
        stop(nodes.get(lead));

        try (CaNode.Resources r = CaNode.open(ca.cfg)) {
          var store = r.store();
          String issuer = caCert.getSubject().toString();
          for (Map.Entry<BigInteger, String> a : acked.entrySet()) {
            assertTrue(store.inTransaction(tx -> tx.certificates().find(issuer, a.getKey())).isPresent(),
                "acknowledged " + a.getValue() + " is stored");
          }
          List<AuditStore.Row> rows = store.inTransaction(tx -> tx.audit().all());
          Set<String> serials = new HashSet<>();
          for (AuditStore.Row x : rows) {
            if (x.action().equals("cert.issue")) {
              assertTrue(serials.add(x.target()), "no serial issued twice: " + x.target());
              if (x.detail().contains("template=ExchangeUserKeyArc")) {
                BigInteger s = new BigInteger(x.target().substring(7), 16);
                assertEquals(1, store.inTransaction(tx -> tx.archives().bySerial(issuer, s)).size(),
                    "archival certificate " + x.target() + " has its archive");
              }
            }
          }
          // CRLs: numbers unique and increasing with time; the newest lists every revocation
          List<Long> numbers = rows.stream().filter(x -> x.action().equals("crl.publish"))
              .map(x -> Long.parseLong(x.target().substring(4))).toList();
          for (int i = 1; i < numbers.size(); i++) {
            assertTrue(numbers.get(i) > numbers.get(i - 1), "CRL numbers increase: " + numbers);
          }
          CrlStore.Row newest = store.inTransaction(tx -> tx.crls().latest()).orElseThrow();
          X509CRLHolder crl = new X509CRLHolder(newest.der());
          for (TestCa.Enrollee e : toRevoke) {
            assertTrue(crl.getRevokedCertificate(e.serial()) != null, "the newest CRL lists " + e.serial().toString(16));
          }
          for (BigInteger serial : crossed) {
            assertEquals(org.keyarc.ca.store.CertRecord.Status.ISSUED, store.inTransaction(tx -> tx.certificates()
                .find(issuer, serial)).orElseThrow().status(), "confirmed on the other node, not revoked by the timeout");
          }
          AuditChain.Verification v = AuditService.verify(store, r.token());
          assertTrue(v.ok(), "the cluster's audit chains, whole: " + v.problems());
          assertEquals(NODES + 1, v.chains(), "one chain a node, and 'main' of the set-up before they started");
          for (int i = 0; i < NODES; i++) {
            String chain = "node-" + i;
            assertTrue(rows.stream().anyMatch(x -> x.chain().equals(chain) && x.action().equals("cert.issue")),
                "node " + i + " issued and audited in its own chain");
          }
          assertEquals(0, v.uncovered(), "the leader's last checkpoint covers every record of every chain");
        }
      } finally {
        for (Process p : nodes) {
          p.destroyForcibly();
        }
        for (Agents.Card c : cards) {
          c.token().close();
        }
        ca.hsm.close();
      }
    }
  }

  private static int leaderIndex(AtomicBoolean dead, int leader) {
    return dead.get() ? leader : -1;
  }

  /** The index of the node whose /metrics says it leads (not {@code not}), waiting up to 20 s; -1 if none. */
  private static int awaitLeader(int[][] ports, int not) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      for (int i = 0; i < ports.length; i++) {
        if (i == not) {
          continue;
        }
        try {
          String m = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[i][1] + "/metrics"))
              .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
          if (m.lines().anyMatch(l -> l.startsWith("keyarc_node_leader{") && l.endsWith(" 1.0"))) {
            return i;
          }
        } catch (java.io.IOException e) {
          // that node is down
        }
      }
      Thread.sleep(100);
    }
    return -1;
  }

  private static void stop(Process p) throws Exception {
    p.getOutputStream().write("stop\n".getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().flush();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
  }

  /** Enrolls over TLS to a node of the cluster. */
  private static final class Client {
    final javax.net.ssl.SSLContext tls;
    final X509CertificateHolder caCert;

    Client(X509CertificateHolder caCert) throws Exception {
      this.caCert = caCert;
      this.tls = TlsPolicy.clientContext(caCert, null);
    }

    TestCa.Enrollee enroll(int port, SecretService.NewSecret s, X509CertificateHolder exchange) throws Exception {
      KeyPair kp = TestCa.ecKey();
      try (CmpClient c = new CmpClient(CmpTransport.connect("tls://127.0.0.1:" + port, tls),
          new Protection.Mac(s.reference(), s.secret(), false), caCert)) {
        X509CertificateHolder cert = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(s.subject()), TestCa.spki(kp),
            TestCa.pop(kp), null, false, null, exchange == null ? null : ArchiveEncryption.encryptedValue(
                PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange, "SHA-1")).enrolled().cert();
        return new TestCa.Enrollee(kp, cert);
      }
    }
  }

  /** A load balancer that sends each message to the next node: the transport under one client. */
  private static final class RoundRobin implements CmpTransport {
    private final CmpTransport[] nodes;
    private int next;

    RoundRobin(CmpTransport... nodes) {
      this.nodes = nodes;
    }

    @Override
    public java.util.concurrent.CompletableFuture<byte[]> send(byte[] pkiMessage) {
      return nodes[next++ % nodes.length].send(pkiMessage);
    }

    @Override
    public String endpoint() {
      return nodes[0].endpoint();
    }

    @Override
    public void close() {
      for (CmpTransport t : nodes) {
        t.close();
      }
    }
  }
}
