package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 2,000 archival enrollments from 8 concurrent clients (2-of-3): every one archived, a sample recovered
 * with two cards, and no session object left in the CA token afterwards.
 */
class ArchivalLoadE2eTest {
  static final int CLIENTS = 8;
  static final int EACH = 250;

  @Test
  void twoThousandArchivalsFromEightClients() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> { }, "kra1", "kra2", "kra3")) {
      List<Agents.Card> cards = new ArrayList<>();
      for (String n : List.of("kra1", "kra2", "kra3")) {
        cards.add(Agents.enroll(ca, n));
      }
      ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
      X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
      Map<BigInteger, PrivateKey> issued = new ConcurrentHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> jobs = new ArrayList<>();
      long start = System.nanoTime();
      for (int t = 0; t < CLIENTS; t++) {
        int client = t;
        jobs.add(pool.submit(() -> {
          for (int i = 0; i < EACH; i++) {
            String subject = "CN=Load " + client + "-" + i;
            KeyPair kp = TestCa.ecKey();
            try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("ExchangeUserKeyArc", subject))) {
              X509CertificateHolder cert = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp),
                  TestCa.pop(kp), null, false, null, ArchiveEncryption.encryptedValue(
                      PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange, "SHA-1")).enrolled().cert();
              issued.put(cert.getSerialNumber(), kp.getPrivate());
            }
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
      pool.shutdown();
      long ms = (System.nanoTime() - start) / 1_000_000;
      System.err.println("ARCHIVAL LOAD: " + CLIENTS * EACH + " archival enrollments in " + ms + " ms ("
          + (CLIENTS * EACH * 1000L / Math.max(1, ms)) + "/s), 8 clients, 2-of-3, binary transport");
      assertEquals(CLIENTS * EACH, issued.size());
      assertEquals(CLIENTS * EACH, (long) ca.services().store().inTransaction(tx -> tx.archives().count()), "every one archived");
      int sample = 0;
      for (Map.Entry<BigInteger, PrivateKey> e : issued.entrySet()) {
        if (sample++ % 100 != 0) {
          continue;
        }
        byte[] record = ca.services().archives().find(Agents.MANAGER, e.getKey(), null, null).get(0).record();
        assertTrue(Agents.sameKey(Agents.recover(record, List.of(cards.get(0), cards.get(2))), e.getValue()));
      }
      assertEquals(0, (int) ca.services().keys().token().call(s -> s.countSessionObjects()),
          "no session object left in the CA token");
      for (Agents.Card c : cards) {
        c.token().close();
      }
    }
  }
}
