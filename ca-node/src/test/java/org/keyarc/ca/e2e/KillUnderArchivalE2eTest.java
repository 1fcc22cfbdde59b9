package org.keyarc.ca.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;
import org.keyarc.protocol.tls.TlsPolicy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14's {@code kill -9} under archival load, over real sockets to a node in its own JVM: four clients
 * enroll with key archival (2-of-3) while the node is killed with SIGKILL, three times, each time restarted on the
 * same store and token. Afterwards every acknowledged certificate is in the store with its archive (and a sample
 * recovers with two cards), no archival certificate is without its archive, the audit chain is whole, and the
 * restarted node checkpointed the tail the killed one left uncovered — no false rollback alarm, no operator step.
 */
class KillUnderArchivalE2eTest {
  private static final int ROUNDS = 3;
  private static final int CLIENTS = 4;
  private static final int PER_ROUND = 40; // secrets a round may use; it is killed long before
  private static final int KILL_AFTER = 12; // acknowledged archivals in a round before the kill

  private record Acked(BigInteger serial, String subject, PrivateKey key) {}

  @Test
  void acknowledgedArchivalsSurviveSigkillAndTheNodeRecoversByItself() throws Exception {
    TestCa ca = TestCa.start(cfg -> cfg.timers.auditCheckpointSeconds = 1, "kra1", "kra2", "kra3");
    List<Agents.Card> cards = new ArrayList<>();
    try {
      for (String n : List.of("kra1", "kra2", "kra3")) {
        cards.add(Agents.enroll(ca, n));
      }
      ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
      X509CertificateHolder caCert = ca.caCert();
      X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
      List<List<SecretService.NewSecret>> secrets = new ArrayList<>();
      for (int r = 0; r < ROUNDS; r++) {
        List<SecretService.NewSecret> round = new ArrayList<>();
        for (int i = 0; i < PER_ROUND; i++) {
          round.add(ca.secret("ExchangeUserKeyArc", "CN=Crash " + r + "-" + i));
        }
        secrets.add(round);
      }
      ca.node.close(); // the node now runs in a JVM of its own, on the same store and token
      Path yaml = ca.dir.resolve("node.yaml");
      new ObjectMapper(new YAMLFactory()).writeValue(yaml.toFile(), ca.cfg);

      Map<BigInteger, Acked> acked = new ConcurrentHashMap<>();
      for (int r = 0; r < ROUNDS; r++) {
        Process child = NodeChild.start(yaml);
        String url = "tls://127.0.0.1:" + NodeChild.ports(child)[0];
        ConcurrentLinkedQueue<SecretService.NewSecret> queue = new ConcurrentLinkedQueue<>(secrets.get(r));
        AtomicInteger inRound = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < CLIENTS; t++) {
          Thread c = new Thread(() -> {
            SecretService.NewSecret s;
            while ((s = queue.poll()) != null) {
              try {
                KeyPair kp = TestCa.ecKey();
                String subject = s.subject();
                try (CmpClient client = new CmpClient(CmpTransport.connect(url, TlsPolicy.clientContext(caCert, null)),
                    new Protection.Mac(s.reference(), s.secret(), false), caCert)) {
                  X509CertificateHolder cert = client.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject),
                      TestCa.spki(kp), TestCa.pop(kp), null, false, null, ArchiveEncryption.encryptedValue(
                          PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange, "SHA-1"))
                      .enrolled().cert();
                  acked.put(cert.getSerialNumber(), new Acked(cert.getSerialNumber(), subject, kp.getPrivate()));
                  inRound.incrementAndGet();
                }
              } catch (Exception e) {
                return; // the node was killed under this request: not acknowledged
              }
            }
          }, "archival-client-" + t);
          c.start();
          clients.add(c);
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (inRound.get() < KILL_AFTER && System.nanoTime() < end) {
          Thread.sleep(5);
        }
        child.destroyForcibly(); // SIGKILL, with requests in flight
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        for (Thread c : clients) {
          c.join(60_000);
        }
        assertTrue(inRound.get() >= KILL_AFTER, "round " + (r + 1) + ": the node (restarted "
            + r + " times after SIGKILL) acknowledged " + inRound.get() + " archivals");
      }

      // a last start and a clean stop, whose last checkpoint covers the tail the last kill left uncovered
      Process last = NodeChild.start(yaml);
      NodeChild.ports(last);
      last.getOutputStream().write("stop\n".getBytes(StandardCharsets.US_ASCII));
      last.getOutputStream().flush();
      assertTrue(last.waitFor(60, TimeUnit.SECONDS));

      try (CaNode.Resources res = CaNode.open(ca.cfg)) {
        var store = res.store();
        for (Acked a : acked.values()) {
          CertRecord rec = store.inTransaction(tx -> tx.certificates().find(caCert.getSubject().toString(), a.serial()))
              .orElseThrow(() -> new AssertionError("acknowledged certificate " + a.subject() + " survived"));
          assertEquals(new X500Name(a.subject()), new X500Name(rec.subject()), "the stored certificate is the one acked");
        }
        List<AuditStore.Row> rows = store.inTransaction(tx -> tx.audit().all());
        List<BigInteger> archival = rows.stream().filter(x -> x.action().equals("cert.issue")
            && x.detail().contains("template=ExchangeUserKeyArc")).map(x -> new BigInteger(x.target().substring(7), 16))
            .toList();
        for (BigInteger serial : archival) {
          assertEquals(1, store.inTransaction(tx -> tx.archives().bySerial(caCert.getSubject().toString(), serial))
              .size(), "the archival certificate " + serial.toString(16) + " has its archive");
        }
        assertEquals(archival.size(), (long) store.inTransaction(tx -> tx.archives().count()),
            "no archive without its certificate");
        assertTrue(archival.size() >= acked.size());
        int sample = 0;
        for (Acked a : acked.values()) {
          if (sample++ % 10 != 0) {
            continue;
          }
          byte[] record = store.inTransaction(tx -> tx.archives().bySerial(caCert.getSubject().toString(),
              a.serial())).get(0).record();
          assertTrue(Agents.sameKey(Agents.recover(record, List.of(cards.get(1), cards.get(2))), a.key()),
              "the archive of " + a.subject() + " recovers the client's key");
        }
        AuditChain.Verification v = AuditService.verify(store, res.token());
        assertTrue(v.ok(), "the audit chain is whole after three SIGKILLs: " + v.problems());
        assertEquals(0, v.uncovered(), "the restarted node covered every record with a checkpoint");
        for (Acked a : acked.values()) {
          String target = "serial:" + a.serial().toString(16);
          assertTrue(rows.stream().anyMatch(x -> x.action().equals("key.archive") && x.target().equals(target)),
              "the archival of " + a.subject() + " is audited");
        }
      }
    } finally {
      for (Agents.Card c : cards) {
        c.token().close();
      }
      ca.hsm.close();
    }
  }
}
