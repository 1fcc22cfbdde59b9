package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.iana.IANAObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.MacCalculator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.SecretRecord;

/**
 * The PBMAC1 forgery of issue 12 and its relatives, tried from outside: an attacker who knows only an unused
 * secret's reference (it travels in clear in senderKID) sends MAC-protected ir messages it computed without
 * the secret. Bouncy Castle derives a key of the length the sender names, so PBKDF2 keyLength 1 used to make
 * the HMAC key one byte: the old node issued the administrator's first certificate after 168 requests. Now the
 * parameters are refused before any derivation, failed MACs lock the reference, and nothing is ever issued.
 */
class MacForgeryE2eTest {
  private static final X500Name NOBODY = new X500Name("");
  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    // the peer's failure budget is RateLimitE2eTest's subject; here it must not hide what each attempt gets
    ca = TestCa.start(cfg -> cfg.limits.failuresPerPeerPerMinute = 10_000);
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static long certificates() throws Exception {
    return ca.services().store().inTransaction(tx -> tx.certificates().count());
  }

  private static SecretRecord row(String reference) throws Exception {
    return ca.services().store().inTransaction(tx -> tx.secrets().find(reference)).orElseThrow();
  }

  private static List<AuditStore.Row> auditSince(long seq) throws Exception {
    return ca.services().store().inTransaction(tx -> tx.audit().records(seq + 1, Long.MAX_VALUE));
  }

  private static long auditHead() throws Exception {
    return ca.services().store().inTransaction(tx -> tx.audit().head().seq());
  }

  private static byte[] ir(String reference, String subject, MacCalculator mac) throws Exception {
    return Attacker.header(NOBODY, ca.caCert().getSubject())
        .setSenderKID(reference.getBytes(StandardCharsets.UTF_8)).setBody(Attacker.ir(subject)).build(mac)
        .toASN1Structure().getEncoded();
  }

  /** PBMAC1 parameters naming PBKDF2 with HMAC-SHA256 and {@code keyLength}, MAC HMAC-SHA256. */
  private static AlgorithmIdentifier pbmac1(int keyLength, int iterations) {
    return new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, new PBMAC1Params(
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2, new PBKDF2Params(Attacker.random(16), iterations,
            keyLength, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))),
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE)));
  }

  /** PBM as openssl cmp sends it by default: salt 16, OWF SHA-256, 500 iterations, HMAC-SHA1. */
  private static MacCalculator opensslPbm(char[] secret) throws Exception {
    return new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(new PBMParameter(
        Attacker.random(16), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), 500,
        new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1))).build(secret);
  }

  @Test
  void pbmac1WithAOneByteKeyIsRefusedBeforeAnyDerivationAllTwoHundredFiftySixGuesses() throws Exception {
    SecretService.NewSecret target = ca.secret("User", "CN=Forgery Target, O=keyarc");
    long certs = certificates();
    long seq = auditHead();
    // every key a one-byte HMAC key can be: on the old node exactly one of these verified
    for (int k = 0; k < 256; k++) {
      MacCalculator guess = Attacker.claiming(pbmac1(1, 1_000), Attacker.hmacSha256(new byte[] {(byte) k}));
      PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Forgery Target, O=keyarc", guess));
      assertEquals(PKIBody.TYPE_ERROR, answer.getBody().getType(), "guess " + k);
      assertEquals(35, Attacker.keyarcCode(answer), Attacker.errorText(answer));
      assertEquals(PKIFailureInfo.badMessageCheck, Attacker.failInfo(answer));
      assertTrue(Attacker.errorText(answer).contains("PBKDF2's keyLength 1 bytes is wrong; it must be 32 bytes"),
          Attacker.errorText(answer));
      assertTrue(Attacker.unprotected(answer), "a refusal before authentication is unprotected");
    }
    assertEquals(certs, certificates(), "nothing was issued");
    // refused on the parameters alone: the secret was not even derived, so it is neither burnt nor locked
    assertEquals(0, row(target.reference()).failures());
    List<AuditStore.Row> audit = auditSince(seq);
    assertEquals(256, audit.size());
    for (AuditStore.Row r : audit) {
      assertEquals("auth.mac.failed", r.action());
      assertEquals("secret:" + target.reference(), r.target());
      assertTrue(r.detail().contains("peer=127.0.0.1") && r.detail().contains("before any derivation"), r.detail());
    }
    // the other lengths a forger might name: too short, too long, none
    for (int length : new int[] {0, 2, 16, 31, 33, 64}) {
      PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Forgery Target, O=keyarc",
          Attacker.claiming(pbmac1(length, 1_000), Attacker.hmacSha256(new byte[] {1}))));
      assertEquals(35, Attacker.keyarcCode(answer), "keyLength " + length + ": " + Attacker.errorText(answer));
    }
    assertEquals(certs, certificates());
  }

  @Test
  void fiveWrongMacsLockTheReferenceAndThenEvenTheRightSecretIsRefused() throws Exception {
    SecretService.NewSecret target = ca.secret("User", "CN=Locked Out, O=keyarc");
    long certs = certificates();
    long seq = auditHead();
    for (int i = 1; i <= 5; i++) {
      PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Locked Out, O=keyarc",
          opensslPbm(("guess-" + i).toCharArray())));
      assertEquals(35, Attacker.keyarcCode(answer), Attacker.errorText(answer));
      assertTrue(Attacker.errorText(answer).contains("the MAC does not match the one-time secret of reference "
          + target.reference()), Attacker.errorText(answer));
      assertTrue(Attacker.unprotected(answer), "a failed MAC never gets an answer protected with the real secret");
      assertEquals(i, row(target.reference()).failures());
    }
    // the owner of the secret comes too late: the reference is locked, refused before any derivation
    PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Locked Out, O=keyarc",
        opensslPbm(target.secret())));
    assertEquals(58, Attacker.keyarcCode(answer), Attacker.errorText(answer));
    assertEquals(PKIFailureInfo.notAuthorized, Attacker.failInfo(answer));
    assertTrue(Attacker.errorText(answer).contains("is locked after 5 failed MACs; re-issue it with keyarc secret "
        + "create"), Attacker.errorText(answer));
    assertTrue(Attacker.unprotected(answer));
    assertEquals(certs, certificates(), "nothing was issued");
    assertEquals(5, row(target.reference()).failures(), "the refused right secret did not count");
    List<String> actions = auditSince(seq).stream().map(AuditStore.Row::action).toList();
    assertEquals(List.of("auth.mac.failed", "auth.mac.failed", "auth.mac.failed", "auth.mac.failed",
        "auth.mac.failed", "auth.secret.locked", "auth.secret.refused"), actions);
  }

  @Test
  void hugeIterationCountsAreRefusedWithoutDerivingAnything() throws Exception {
    SecretService.NewSecret target = ca.secret("User", "CN=Slow Down, O=keyarc");
    long certs = certificates();
    // 2^31 - 1 rounds of SHA-256 or PBKDF2 would keep a core busy for many minutes; 2^100 does not fit an int.
    // The MAC value does not matter: the answer must come before any derivation, well inside the timeout
    AlgorithmIdentifier pbm = new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac, new PBMParameter(
        new DEROctetString(Attacker.random(16)), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256),
        new ASN1Integer(Integer.MAX_VALUE), new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1)));
    AlgorithmIdentifier pbmHuge = new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac, new PBMParameter(
        new DEROctetString(Attacker.random(16)), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256),
        new ASN1Integer(BigInteger.TWO.pow(100)), new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1)));
    for (AlgorithmIdentifier claimed : List.of(pbm, pbmHuge, pbmac1(32, Integer.MAX_VALUE))) {
      PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Slow Down, O=keyarc",
          Attacker.claiming(claimed, Attacker.hmacSha256(new byte[32]))), Duration.ofSeconds(20));
      assertEquals(35, Attacker.keyarcCode(answer), Attacker.errorText(answer));
      assertTrue(Attacker.errorText(answer).contains("is outside 500..100000"), Attacker.errorText(answer));
    }
    assertEquals(certs, certificates());
    assertEquals(0, row(target.reference()).failures());
  }

  @Test
  void sha1AsPbmOneWayFunctionIsRefused() throws Exception {
    SecretService.NewSecret target = ca.secret("User", "CN=Old Hash, O=keyarc");
    MacCalculator sha1 = new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(
        new PBMParameter(Attacker.random(16), new AlgorithmIdentifier(
            org.bouncycastle.asn1.oiw.OIWObjectIdentifiers.idSHA1), 1_000,
            new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1))).build(target.secret());
    PKIMessage answer = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Old Hash, O=keyarc", sha1));
    assertEquals(35, Attacker.keyarcCode(answer), Attacker.errorText(answer));
    assertTrue(Attacker.errorText(answer).contains("one-way function 1.3.14.3.2.26 (SHA-1) is not allowed"),
        Attacker.errorText(answer));
    // with openssl's defaults the same secret enrolls
    PKIMessage ok = Attacker.post(ca.httpUrl(), ir(target.reference(), "CN=Old Hash, O=keyarc",
        opensslPbm(target.secret())));
    assertEquals(PKIBody.TYPE_INIT_REP, ok.getBody().getType(), Attacker.errorText(ok));
  }
}
