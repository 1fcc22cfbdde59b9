package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Date;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.keyarc.ca.auth.SecretService;

/** Builds an ir whose PBM salt is shorter than RFC 9810 allows. */
final class ShortSalt {
  private ShortSalt() {}

  static byte[] irWithSalt(SecretService.NewSecret s, int saltLength, X509CertificateHolder ca) throws Exception {
    var kp = TestCa.ecKey();
    var req = new CertificateRequestMessageBuilder(BigInteger.ZERO).setSubject(new X500Name("CN=Salty"))
        .setPublicKey(TestCa.spki(kp)).setProofOfPossessionSigningKeySigner(TestCa.pop(kp)).build();
    byte[] tx = new byte[16];
    new SecureRandom().nextBytes(tx);
    return new ProtectedPKIMessageBuilder(new GeneralName(new X500Name("")), new GeneralName(ca.getSubject()))
        .setTransactionID(tx).setSenderNonce(tx).setMessageTime(new Date())
        .setSenderKID(s.reference().getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .setBody(new PKIBody(PKIBody.TYPE_INIT_REQ, new CertReqMessages(req.toASN1Structure())))
        .build(new PKMACBuilder(new JcePKMACValuesCalculator()).setParameters(new org.bouncycastle.asn1.cmp.PBMParameter(
            new byte[saltLength], new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256), 1000,
            new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_hmacWithSHA256))).build(s.secret()))
        .toASN1Structure().getEncoded();
  }
}
