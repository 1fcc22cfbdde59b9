package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.iana.IANAObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CertificateConfirmationContentBuilder;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.e2e.TestCa;

/**
 * A one-time secret is used by one transaction: once it is, it authenticates only that transaction's
 * certConf and pollReq (the store keeps the transactionID it was used in), and is refused, before anything
 * is derived, for any other transaction.
 */
class UsedSecretE2eTest {
  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> cfg.limits.failuresPerPeerPerMinute = 10_000);
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static byte[] mac(SecretService.NewSecret s, byte[] transactionId, PKIBody body) throws Exception {
    return Attacker.header(new X500Name(""), ca.caCert().getSubject(), transactionId, new Date())
        .setSenderKID(s.reference().getBytes(StandardCharsets.UTF_8)).setBody(body)
        .build(new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(new PBMParameter(
            Attacker.random(16), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), 500,
            new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1))).build(s.secret()))
        .toASN1Structure().getEncoded();
  }

  private static PKIBody certConf(X509CertificateHolder cert) throws Exception {
    return new PKIBody(PKIBody.TYPE_CERT_CONFIRM, new CertificateConfirmationContentBuilder()
        .addAcceptedCertificate(cert, BigInteger.ZERO).build(new JcaDigestCalculatorProviderBuilder().build())
        .toASN1Structure());
  }

  @Test
  void aUsedSecretConfirmsOnlyItsOwnTransaction() throws Exception {
    SecretService.NewSecret s = ca.secret("User", "CN=One Transaction, O=keyarc");
    byte[] tx = Attacker.random(16);
    PKIMessage ip = Attacker.post(ca.httpUrl(), mac(s, tx, Attacker.ir("CN=One Transaction, O=keyarc")));
    assertEquals(PKIBody.TYPE_INIT_REP, ip.getBody().getType(), Attacker.errorText(ip));
    X509CertificateHolder cert = new X509CertificateHolder(CertRepMessage.getInstance(ip.getBody().getContent())
        .getResponse()[0].getCertifiedKeyPair().getCertOrEncCert().getCertificate().getX509v3PKCert());
    // the same secret in another transaction: a second ir, a certConf, a pollReq
    for (PKIBody body : new PKIBody[] {Attacker.ir("CN=One Transaction, O=keyarc"), certConf(cert),
        new PKIBody(PKIBody.TYPE_POLL_REQ, new PollReqContent(BigInteger.ZERO))}) {
      PKIMessage refused = Attacker.post(ca.httpUrl(), mac(s, Attacker.random(16), body));
      assertEquals(39, Attacker.keyarcCode(refused), Attacker.errorText(refused));
      assertTrue(Attacker.errorText(refused).contains("was already used"), Attacker.errorText(refused));
      assertTrue(Attacker.unprotected(refused));
    }
    // its own transaction's certConf still works, with a fresh senderNonce
    PKIMessage conf = Attacker.post(ca.httpUrl(), mac(s, tx, certConf(cert)));
    assertEquals(PKIBody.TYPE_CONFIRM, conf.getBody().getType(), Attacker.errorText(conf));
    assertEquals(0, ca.services().store().inTransaction(tx2 -> tx2.secrets().find(s.reference())).orElseThrow()
        .failures(), "refusals of a used secret are not MAC failures: nothing was derived");
  }
}
