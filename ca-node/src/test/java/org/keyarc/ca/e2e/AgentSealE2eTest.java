package org.keyarc.ca.e2e;

import java.security.KeyPair;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reviewer swapped the agent list through the database: a self-signed agent certificate and a 1-of-1 policy
 * made every later archive open with the attacker's key. Tried again with direct store edits: archival refuses
 * (65, audited) because the list and policy no longer match the seal an administrator made in the HSM, and
 * nothing is stored; the administrator's own change seals again.
 */
class AgentSealE2eTest {
  static TestCa ca;
  static List<Agents.Card> cards = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> { }, "kra1", "kra2");
    for (String n : List.of("kra1", "kra2")) {
      cards.add(Agents.enroll(ca, n));
    }
    ca.services().agents().setPolicy(Identity.localOperator(), 2, 2);
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

  private static long archives() throws Exception {
    return ca.services().store().inTransaction(tx -> tx.archives().count());
  }

  @Test
  void aSwappedAgentOrALoweredPolicyInTheStoreStopsArchival() throws Exception {
    KeyPair kp = Agents.userKey("p256");
    X509CertificateHolder ok = archive(ca.binaryUrl(), "CN=Sealed One", kp);
    assertTrue(ok != null && archives() == 1, "archival works with the sealed configuration");

    // the attacker's database edit: the second agent's certificate swapped for the first one's, the policy 1 of 1
    byte[] firstCert = cards.get(0).cert().getEncoded();
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE recovery_agent SET cert = ? WHERE serial = ?")) {
        ps.setBytes(1, firstCert);
        ps.setString(2, cards.get(1).serial().toString(16));
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE archive_policy SET agents = 1, threshold = 1")) {
        ps.executeUpdate();
      }
      return null;
    });
    CmpClientException e = assertThrows(CmpClientException.class,
        () -> archive(ca.binaryUrl(), "CN=Sealed Two", Agents.userKey("p256")));
    assertEquals(ErrorCode.ARCHIVAL_CONFIG_TAMPERED, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("not the one an administrator sealed"), e.getMessage());
    assertEquals(1, archives(), "nothing was stored");
    assertTrue(ca.services().store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE)).stream()
        .anyMatch(r -> r.action().equals("kra.config.tampered")), "the refusal is audited");

    // the seal itself removed: still refused
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM archive_config_seal")) {
        ps.executeUpdate();
      }
      return null;
    });
    CmpClientException unsealed = assertThrows(CmpClientException.class,
        () -> archive(ca.binaryUrl(), "CN=Sealed Three", Agents.userKey("p256")));
    assertEquals(ErrorCode.ARCHIVAL_CONFIG_TAMPERED, unsealed.code(), unsealed.getMessage());

    // the administrator puts it right and seals again (the swapped certificate is also caught per agent)
    byte[] secondCert = cards.get(1).cert().getEncoded();
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE recovery_agent SET cert = ? WHERE serial = ?")) {
        ps.setBytes(1, secondCert);
        ps.setString(2, cards.get(1).serial().toString(16));
        ps.executeUpdate();
      }
      return null;
    });
    ca.services().agents().setPolicy(Identity.localOperator(), 2, 2);
    archive(ca.binaryUrl(), "CN=Sealed Four", Agents.userKey("p256"));
    assertEquals(2, archives());
  }
}
