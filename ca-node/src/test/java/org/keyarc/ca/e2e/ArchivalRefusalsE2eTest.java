package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.crmf.PKIArchiveOptions;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.crmf.PKIArchiveControl;
import org.bouncycastle.cert.crmf.PKIArchiveControlBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way archival can go wrong: its own error, and neither certificate nor archive stored. */
class ArchivalRefusalsE2eTest {
  static TestCa ca;
  static List<Agents.Card> cards = new ArrayList<>();
  static int next;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> { }, "kra1", "kra2", "kra3", "kra4");
    for (String n : List.of("kra1", "kra2", "kra3")) {
      cards.add(Agents.enroll(ca, n));
    }
    ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
  }

  @AfterAll
  static void stop() throws Exception {
    for (Agents.Card c : cards) {
      c.token().close();
    }
    ca.close();
  }

  private static long[] counts() throws Exception {
    return ca.services().store().inTransaction(tx -> new long[] {tx.certificates().count(), tx.archives().count()});
  }

  private interface Send {
    void run(CmpClient c, String subject, KeyPair kp, X509CertificateHolder exchange) throws Exception;
  }

  /** Sends over the binary transport and expects {@code code}, with nothing stored. */
  private static CmpClientException refused(String template, ErrorCode code, String text, Send send) throws Exception {
    String subject = "CN=Refused " + next++;
    long[] before = counts();
    CmpClientException e;
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret(template, subject))) {
      X509CertificateHolder exchange = c.exchangeCertificate();
      KeyPair kp = TestCa.ecKey();
      e = assertThrows(CmpClientException.class, () -> send.run(c, subject, kp, exchange));
    }
    assertEquals(code, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(text), "'" + e.getMessage() + "' should say '" + text + "'");
    long[] after = counts();
    assertEquals(before[0], after[0], "no certificate stored");
    assertEquals(before[1], after[1], "no archive stored");
    return e;
  }

  private static EncryptedKey encrypt(KeyPair kp, X509CertificateHolder exchange) throws Exception {
    return ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange,
        "SHA-1");
  }

  private static void ir(CmpClient c, String subject, KeyPair kp, EncryptedKey key) throws Exception {
    c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp), TestCa.pop(kp), null, false, null, key);
  }

  @Test
  void archiveOptionsMissingOrUnexpected() throws Exception {
    refused("ExchangeUserKeyArc", ErrorCode.ARCHIVAL_REQUIRED, "send it in PKIArchiveOptions",
        (c, s, kp, x) -> ir(c, s, kp, null));
    refused("User", ErrorCode.BAD_REQUEST, "does not archive private keys, but the request carries archive options",
        (c, s, kp, x) -> ir(c, s, kp, encrypt(kp, x)));
  }

  @Test
  void privateKeyOfAnotherPairIsBadPop() throws Exception {
    KeyPair other = TestCa.ecKey();
    refused("ExchangeUserKeyArc", ErrorCode.BAD_POP, "does not match the requested public key",
        (c, s, kp, x) -> ir(c, s, kp, encrypt(other, x)));
  }

  @Test
  void corruptedCiphertext() throws Exception {
    refused("ExchangeUserKeyArc", ErrorCode.ARCHIVE_UNREADABLE, "cannot be unwrapped", (c, s, kp, x) -> {
      EncryptedValue ev = EncryptedValue.getInstance(encrypt(kp, x).getValue());
      byte[] value = ev.getEncValue().getOctets();
      value[value.length / 2] ^= 0x5a;
      ir(c, s, kp, new EncryptedKey(new EncryptedValue(null, ev.getSymmAlg(), ev.getEncSymmKey(), ev.getKeyAlg(),
          null, new DERBitString(value))));
    });
  }

  @Test
  void keyEncryptedToAnotherCertificate() throws Exception {
    KeyPair rogue = TestCa.rsaKey(2048);
    X509CertificateHolder rogueCert = new JcaX509v3CertificateBuilder(new X500Name("CN=Rogue"), BigInteger.ONE,
        new Date(), Date.from(Instant.now().plusSeconds(3600)), new X500Name("CN=Rogue"), rogue.getPublic())
        .build(TestCa.pop(rogue));
    refused("ExchangeUserKeyArc", ErrorCode.WRONG_EXCHANGE_CERT, "not encrypted to a valid exchange certificate",
        (c, s, kp, x) -> ir(c, s, kp, encrypt(kp, rogueCert)));
  }

  @Test
  void expiredExchangeCertificate() throws Exception {
    CaServices s = ca.services();
    KeyPair kp = TestCa.ecKey();
    EncryptedKey key = encrypt(kp, s.keys().currentExchange(Instant.now()).orElseThrow().cert());
    // eight days on, the 7-day exchange certificate has expired (and no renewal ran)
    CaServices later = CaServices.wire(ca.cfg.settings(), s.store(), s.keys(), s.templates(),
        Clock.offset(Clock.systemUTC(), Duration.ofDays(8)));
    long[] before = counts();
    CaException e = assertThrows(CaException.class, () -> later.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("expired-xchg", 0, "ir"), s.templates().require("ExchangeUserKeyArc"), new X500Name("CN=Late"),
        TestCa.spki(kp), null, true, null, key)));
    assertEquals(ErrorCode.WRONG_EXCHANGE_CERT, e.code(), e.getMessage());
    assertEquals(before[0], counts()[0]);
    assertEquals(before[1], counts()[1]);
  }

  @Test
  void tooFewValidAgentsNamesTheInvalidOne() throws Exception {
    Agents.Card fourth = Agents.enroll(ca, "kra4");
    try {
      ca.services().agents().setPolicy(Identity.localOperator(), 4, 2);
      ca.services().revocation().revoke(Agents.MANAGER, fourth.serial(), CRLReason.keyCompromise, null);
      CmpClientException e = refused("ExchangeUserKeyArc", ErrorCode.RECOVERY_AGENTS_UNAVAILABLE,
          "archival needs 4 valid recovery agents and 3 of 4 configured are valid",
          (c, s, kp, x) -> ir(c, s, kp, encrypt(kp, x)));
      assertTrue(e.getMessage().contains("CN=Agent kra4 (serial " + fourth.serial().toString(16) + "): revoked"),
          e.getMessage());
    } finally {
      ca.services().agents().setPolicy(Identity.localOperator(), 3, 2);
      ca.services().agents().remove(Identity.localOperator(), fourth.serial());
      fourth.token().close();
    }
  }

  @Test
  void envelopedDataFromBouncyCastleIsRefusedUnlessSoftwareUnwrapIsOn() throws Exception {
    KeyPair kp = TestCa.rsaKey(2048);
    X509CertificateHolder exchange = ca.services().keys().currentExchange(Instant.now()).orElseThrow().cert();
    // the standard form, built with Bouncy Castle's PKIArchiveControlBuilder (not keyarc's client code)
    PKIArchiveControl control = new PKIArchiveControlBuilder(PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()),
        new GeneralName(new X500Name("CN=Envelope"))).addRecipientGenerator(new JceKeyTransRecipientInfoGenerator(
            new JcaX509CertificateConverter().getCertificate(exchange)))
        .build(new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES128_CBC).build());
    EncryptedKey enveloped = EncryptedKey.getInstance(PKIArchiveOptions.getInstance(control.getValue()).getValue());
    refused("ExchangeUserKeyArc", ErrorCode.ARCHIVE_FORM_REFUSED, "archival.allowSoftwareUnwrap",
        (c, s, ignored, x) -> ir(c, s, kp, enveloped));

    // with the setting on, the same form is archived, audited as a software unwrap, and recoverable; it needs an
    // exchange key that may decrypt, which only exists once the setting is on (exchange keys are unwrap-only)
    ca.cfg.archival.allowSoftwareUnwrap = true;
    try {
      CaServices s = ca.services();
      CaServices lenient = CaServices.wire(ca.cfg.settings(), s.store(), s.keys(), s.templates(), Clock.systemUTC());
      EncryptedKey toOldKey = enveloped;
      CaException unwrapOnly = assertThrows(CaException.class, () -> lenient.enrollment().enroll(new EnrollRequest(
          Identity.localOperator(), new EnrollRequest.ClientRef("enveloped-old", 0, "ir"),
          s.templates().require("ExchangeUserKeyArc"), new X500Name("CN=Envelope"), TestCa.spki(kp), null, true, null,
          toOldKey)));
      assertEquals(ErrorCode.WRONG_EXCHANGE_CERT, unwrapOnly.code(), "an unwrap-only exchange key cannot decrypt: "
          + unwrapOnly.getMessage());
      X509CertificateHolder decrypting = lenient.exchange().renewNow("local-operator");
      PKIArchiveControl control2 = new PKIArchiveControlBuilder(PrivateKeyInfo.getInstance(
          kp.getPrivate().getEncoded()), new GeneralName(new X500Name("CN=Envelope"))).addRecipientGenerator(
              new JceKeyTransRecipientInfoGenerator(new JcaX509CertificateConverter().getCertificate(decrypting)))
          .build(new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES128_CBC).build());
      EncryptedKey envelopedToNew = EncryptedKey.getInstance(PKIArchiveOptions.getInstance(control2.getValue())
          .getValue());
      Outcome.Issued out = (Outcome.Issued) lenient.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("enveloped", 0, "ir"), s.templates().require("ExchangeUserKeyArc"),
          new X500Name("CN=Envelope"), TestCa.spki(kp), null, true, null, envelopedToNew));
      ArchiveStore.Row row = s.archives().find(Agents.MANAGER, out.cert().getSerialNumber(), null, null).get(0);
      assertTrue(Agents.sameKey(Agents.recover(row.record(), cards.subList(1, 3)), kp.getPrivate()));
      List<AuditStore.Row> audit = s.store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE));
      assertTrue(audit.stream().anyMatch(r -> r.action().equals("key.archive")
          && r.target().equals("serial:" + out.cert().getSerialNumber().toString(16))
          && r.detail().contains("unwrap=software")), "audited as a software unwrap");
    } finally {
      ca.cfg.archival.allowSoftwareUnwrap = false;
    }
  }

  @Test
  void failureAtTheCommitLeavesNeitherArchiveNorCertificate() throws Exception {
    // the archive row is the transaction's last write: make the database refuse it
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("ALTER TABLE archived_key ADD CONSTRAINT inject_failure "
          + "CHECK (subject <> 'CN=Crash At Commit')")) {
        ps.executeUpdate();
      }
      return null;
    });
    try {
      long[] before = counts();
      SecretService.NewSecret secret = ca.secret("ExchangeUserKeyArc", "CN=Crash At Commit");
      try (CmpClient c = ca.macClient(ca.binaryUrl(), secret)) {
        KeyPair kp = TestCa.ecKey();
        EncryptedKey key = encrypt(kp, c.exchangeCertificate());
        CmpClientException e = assertThrows(CmpClientException.class, () -> ir(c, "CN=Crash At Commit", kp, key));
        assertEquals(ErrorCode.STORE_ERROR, e.code(), e.getMessage());
      }
      assertEquals(before[0], counts()[0], "no certificate");
      assertEquals(before[1], counts()[1], "no archive");
      assertTrue(ca.services().store().inTransaction(tx -> tx.secrets().find(secret.reference()))
          .orElseThrow().usedAt() == null, "the one-time secret was not used up");
    } finally {
      DirectSql.run(ca.services().store(), c -> {
        try (PreparedStatement ps = c.prepareStatement("ALTER TABLE archived_key DROP CONSTRAINT inject_failure")) {
          ps.executeUpdate();
        }
        return null;
      });
    }
  }
}
