package org.keyarc.ca.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.hsm.KeyHandle.KeyClass;

/**
 * hsm.archivalToken: the exchange keys live on a token (a partition, on a network HSM) of their own, beside the CA
 * token, and every archival unwrap and re-wrap happens there. Real SoftHSM2 tokens: the exchange key is found on the
 * archival token and not on the CA token, an archived key is recovered with the agents' cards, and the CA key is
 * not on the archival token.
 */
class ArchivalTokenE2eTest {
  static TestCa ca;
  static Agents.Card agent;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.startWithTokens((cfg, hsm) -> {
      cfg.hsm.archivalToken = hsm.label("archive");
      cfg.hsm.archivalPinFile = hsm.pinFile("archive").toString();
    }, "archive", "kra1");
    agent = Agents.enroll(ca, "kra1");
  }

  @AfterAll
  static void stop() throws Exception {
    agent.token().close();
    ca.close();
  }

  /** An ir with the private key encrypted to the exchange certificate the node gives, over the binary transport. */
  static X509CertificateHolder archive(String subject, KeyPair kp) throws Exception {
    try (org.keyarc.protocol.client.CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("ExchangeUserKeyArc",
        subject))) {
      X509CertificateHolder exchange = c.exchangeCertificate();
      org.bouncycastle.asn1.crmf.EncryptedKey key = org.keyarc.protocol.client.ArchiveEncryption.encryptedValue(
          org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange, "SHA-1");
      return c.enroll(org.bouncycastle.asn1.cmp.PKIBody.TYPE_INIT_REQ, new org.bouncycastle.asn1.x500.X500Name(
          subject), TestCa.spki(kp), TestCa.pop(kp), null, false, null, key).enrolled().cert();
    }
  }

  @Test
  void anArchivalTokenWithoutItsPinIsAClearErrorAtStart() throws Exception {
    org.keyarc.ca.config.NodeConfig cfg = org.keyarc.ca.config.NodeConfig.defaults(ca.dir, ca.cfg.hsm.module,
        ca.cfg.hsm.pinFile);
    cfg.hsm.token = ca.cfg.hsm.token;
    cfg.hsm.archivalToken = ca.cfg.hsm.archivalToken;
    org.keyarc.ca.CaException e = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
        () -> org.keyarc.ca.node.CaNode.open(cfg.settings(), org.keyarc.ca.config.Environment.system()).close());
    assertEquals(org.keyarc.protocol.ErrorCode.PIN_REQUIRED, e.code(), e.getMessage());
    assertEquals("the archival token '" + ca.hsm.label("archive") + "' needs its PIN: set hsm.archivalPinFile in the "
        + "configuration or the KEYARC_ARCHIVAL_PIN environment variable", e.getMessage());
  }

  /**
   * The CA token named again by its serial (a PKCS#11 URI) is not a separate archival token: refused at start, after
   * both are open, whatever the names look like. The PIN comes from the environment the node is given.
   */
  @Test
  void theCaTokenUnderAnotherNameIsRefusedAsTheArchivalToken() throws Exception {
    org.keyarc.ca.config.NodeConfig cfg = org.keyarc.ca.config.NodeConfig.defaults(ca.dir, ca.cfg.hsm.module,
        ca.cfg.hsm.pinFile);
    cfg.hsm.token = ca.cfg.hsm.token;
    cfg.hsm.archivalToken = "pkcs11:serial=" + ca.services().keys().token().serial();
    String pin = java.nio.file.Files.readString(java.nio.file.Path.of(ca.cfg.hsm.pinFile)).trim();
    org.keyarc.ca.CaException e = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
        () -> org.keyarc.ca.node.CaNode.open(cfg.settings(), org.keyarc.ca.config.Environment.of(java.util.Map.of(
            "KEYARC_ARCHIVAL_PIN", pin))).close());
    assertEquals(org.keyarc.protocol.ErrorCode.BAD_INPUT, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("is the CA token '" + ca.hsm.label("ca") + "'"), e.getMessage());
  }

  @Test
  void theExchangeKeysAndEveryUnwrapAreOnTheArchivalToken() throws Exception {
    CaKeyring keys = ca.services().keys();
    assertNotSame(keys.token(), keys.exchangeToken());
    assertEquals(ca.hsm.label("archive"), keys.exchangeToken().label());
    String exchange = keys.exchanges().get(0).label();
    assertTrue(keys.exchangeToken().call(s -> s.findKeyOrNull(KeyClass.PRIVATE, exchange)) != null);
    assertNull(keys.token().call(s -> s.findKeyOrNull(KeyClass.PRIVATE, exchange)), "not on the CA token");
    assertNull(keys.exchangeToken().call(s -> s.findKeyOrNull(KeyClass.PRIVATE, keys.current().label())),
        "the CA key is not on the archival token");

    ca.services().agents().setPolicy(Identity.localOperator(), 1, 1);
    for (String type : List.of("rsa2048", "p256")) {
      KeyPair kp = Agents.userKey(type);
      X509CertificateHolder cert = archive("CN=Archived " + type, kp);
      assertEquals(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()), cert.getSubjectPublicKeyInfo());
      List<ArchiveStore.Row> rows = ca.services().archives().find(Agents.MANAGER, cert.getSerialNumber(), null, null);
      assertEquals(1, rows.size());
      byte[] recovered = Agents.recover(rows.get(0).record(), List.of(agent));
      assertTrue(Agents.sameKey(recovered, kp.getPrivate()), type);
    }
  }
}
