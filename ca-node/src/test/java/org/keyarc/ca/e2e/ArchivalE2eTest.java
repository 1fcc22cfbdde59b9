package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.protocol.archive.Subsets;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.support.Digests;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Archival end to end: keys of four types, M-of-N policies 1-of-1 to 3-of-5, both transports; every
 * archived key recovered with M agent cards equals the enrollee's key, and no M−1 cards (with the
 * CA's own exchange key thrown in) open any envelope.
 */
class ArchivalE2eTest {
  static TestCa ca;
  static List<Agents.Card> cards = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> { }, "kra1", "kra2", "kra3", "kra4", "kra5");
    for (String n : List.of("kra1", "kra2", "kra3", "kra4", "kra5")) {
      cards.add(Agents.enroll(ca, n));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (Agents.Card c : cards) {
      c.token().close();
    }
    ca.close();
  }

  /** Enrolls SUBJECT on ExchangeUserKeyArc with archival over URL; returns the certificate. */
  static X509CertificateHolder archive(String url, String subject, KeyPair kp) throws Exception {
    try (CmpClient c = ca.macClient(url, ca.secret("ExchangeUserKeyArc", subject))) {
      X509CertificateHolder exchange = c.exchangeCertificate();
      EncryptedKey key = ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()),
          exchange, "SHA-1");
      return c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp), TestCa.pop(kp), null, false,
          null, key).enrolled().cert();
    }
  }

  static ArchiveStore.Row archiveOf(BigInteger serial) throws Exception {
    List<ArchiveStore.Row> rows = ca.services().archives().find(Agents.MANAGER, serial, null, null);
    assertEquals(1, rows.size());
    return rows.get(0);
  }

  /** Recovery material goes only to an agent of the archive whose step is still to do, and the fetch is audited. */
  @Test
  void recoveryMaterialIsForTheArchivesAgentsOnly() throws Exception {
    ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
    KeyPair kp = Agents.userKey("p256");
    X509CertificateHolder cert = archive(ca.binaryUrl(), "CN=Material Check", kp);
    long id = ca.services().recoveries().open(Agents.MANAGER, cert.getSerialNumber());
    var recoveries = ca.services().recoveries();
    CaException manager = assertThrows(CaException.class, () -> recoveries.material(Agents.MANAGER, id));
    assertEquals(ErrorCode.NOT_AUTHORIZED, manager.code(), manager.getMessage());
    Identity outsider = new Identity(Identity.Kind.CERTIFICATE, "CN=Agent kra5", java.util.Set.of(Role.RECOVERY_AGENT));
    CaException other = assertThrows(CaException.class, () -> recoveries.material(outsider, id));
    assertEquals(ErrorCode.BAD_REQUEST, other.code());
    assertTrue(other.getMessage().contains("is not one of the recovery agents"), other.getMessage());
    Identity first = new Identity(Identity.Kind.CERTIFICATE, "CN=Agent kra1", java.util.Set.of(Role.RECOVERY_AGENT));
    assertEquals(id, recoveries.material(first, id).id());
    assertTrue(ca.services().store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE)).stream()
        .anyMatch(r -> r.action().equals("recovery.material") && r.actor().equals("CN=Agent kra1")
            && r.target().equals("recovery:" + id)), "the fetch is audited");
  }

  @Test
  void everyKeyTypePolicyAndTransportRecoversWithMCards() throws Exception {
    int[][] policies = {{1, 1}, {3, 1}, {3, 2}, {5, 3}};
    int n = 0;
    for (int[] p : policies) {
      ca.services().agents().setPolicy(Identity.localOperator(), p[0], p[1]);
      for (String type : List.of("rsa2048", "rsa3072", "p256", "p384")) {
        for (String url : List.of(ca.binaryUrl(), ca.httpsUrl())) {
          KeyPair kp = Agents.userKey(type);
          X509CertificateHolder cert = archive(url, "CN=User " + n++, kp);
          ArchiveStore.Row row = archiveOf(cert.getSerialNumber());
          assertEquals(p[1], row.threshold());
          assertEquals(p[0], row.agents());
          ArchiveRecord rec = ArchiveRecord.getInstance(row.record());
          assertEquals(Subsets.of(p[0], p[1]).size(), rec.envelopes().size(), "one envelope per M-subset");
          if (n == 1) {
            // getkey groundwork: the record is found by subject and by certificate hash too
            byte[] der = cert.getEncoded();
            assertEquals(row.serial(), ca.services().archives().find(Agents.MANAGER, null, "CN=User 0", null).get(0)
                .serial());
            assertEquals(row.serial(), ca.services().archives().find(Agents.MANAGER, null, null,
                Digests.sha256Hex(der)).get(0).serial());
            assertEquals(row.serial(), ca.services().archives().find(Agents.MANAGER, null, null,
                Digests.sha1Hex(der).toUpperCase()).get(0).serial());
            CaException notManager = assertThrows(CaException.class, () -> ca.services().archives().find(
                Identity.localOperator(), row.serial(), null, null));
            assertEquals(org.keyarc.protocol.ErrorCode.NOT_AUTHORIZED, notManager.code());
          }
          byte[] pkcs8 = kp.getPrivate().getEncoded();
          assertFalse(contains(row.record(), pkcs8), "the record does not hold the PKCS#8 key");
          // recover with the M cards of the last envelope
          ArchiveRecord.Envelope env = rec.envelopes().get(rec.envelopes().size() - 1);
          List<Agents.Card> chosen = new ArrayList<>();
          for (int i : env.agentIndexes()) {
            chosen.add(cards.get(i));
          }
          byte[] recovered = Agents.recover(row.record(), chosen);
          assertTrue(Agents.sameKey(recovered, kp.getPrivate()), type + " " + p[1] + "-of-" + p[0] + " via " + url);
        }
      }
    }
  }

  @Test
  void noSetOfMMinusOneCardsOpensAnyEnvelope() throws Exception {
    for (int[] p : new int[][] {{3, 2}, {5, 3}}) {
      ca.services().agents().setPolicy(Identity.localOperator(), p[0], p[1]);
      KeyPair kp = TestCa.ecKey();
      X509CertificateHolder cert = archive(ca.binaryUrl(), "CN=Threshold " + p[1] + " of " + p[0], kp);
      ArchiveRecord rec = ArchiveRecord.getInstance(archiveOf(cert.getSerialNumber()).record());
      // every M-1 subset of the agents, plus the CA's own exchange key as one more "card"
      Agents.Card caKey = new Agents.Card("ca", ca.services().keys().token(),
          ca.services().keys().exchanges().get(0).key(), ca.services().keys().exchanges().get(0).cert());
      // the control: the M cards of an envelope, offered the same way, do open it
      for (ArchiveRecord.Envelope env : rec.envelopes()) {
        List<Agents.Card> all = new ArrayList<>();
        env.agentIndexes().forEach(i -> all.add(cards.get(i)));
        all.add(caKey);
        assertTrue(opensWithAnyOrder(rec, env, all), "its own M cards open envelope " + env.agentIndexes());
      }
      for (int[] subset : Subsets.of(p[0], p[1] - 1)) {
        List<Agents.Card> have = new ArrayList<>();
        for (int i : subset) {
          have.add(cards.get(i));
        }
        have.add(caKey);
        for (ArchiveRecord.Envelope env : rec.envelopes()) {
          assertFalse(opensWithAnyOrder(rec, env, have), "cards " + java.util.Arrays.toString(subset)
              + " + the CA must not open envelope " + env.agentIndexes());
        }
      }
    }
  }

  /** Tries to peel an envelope trying every available card at every layer. */
  static boolean opensWithAnyOrder(ArchiveRecord rec, ArchiveRecord.Envelope env, List<Agents.Card> have) {
    byte[] layer = env.layers();
    for (int j = 0; j < env.agentIndexes().size() - 1; j++) {
      byte[] next = null;
      for (Agents.Card c : have) {
        try {
          next = new org.bouncycastle.cms.CMSEnvelopedData(layer).getRecipientInfos().getRecipients().iterator().next()
              .getContent(new org.keyarc.hsm.HsmKeyTransRecipient(c.token(), c.key()));
          break;
        } catch (Exception e) {
          // this card cannot open the layer
        }
      }
      if (next == null) {
        return false;
      }
      layer = next;
    }
    for (Agents.Card c : have) {
      try {
        byte[] inner = layer;
        byte[] k = c.token().call(s -> s.decryptOaep(c.key(), org.keyarc.hsm.OaepHash.SHA1, inner));
        var kwp = new org.bouncycastle.crypto.engines.RFC5649WrapEngine(
            org.bouncycastle.crypto.engines.AESEngine.newInstance());
        kwp.init(false, new org.bouncycastle.crypto.params.KeyParameter(k));
        byte[] w = rec.wrappedKey();
        kwp.unwrap(w, 0, w.length);
        return true;
      } catch (Exception e) {
        // not this card
      }
    }
    return false;
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  static CaServices service() {
    return ca.services();
  }
}
