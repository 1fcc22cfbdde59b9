package org.keyarc.bench;

import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each CMP benchmark does the node's real work on a real request, and gets the answer a user would see. */
class CmpBenchmarkTest {
  @Test
  void eachPieceDoesItsWork() throws Exception {
    CmpBenchmark b = new CmpBenchmark();
    b.setUp();
    assertEquals(new X500Name("CN=bench client"), b.decodeRequest().getCertTemplate().getSubject());
    assertTrue(b.verifyProtection(), "the request's protection verifies");
    assertTrue(b.verifyPop(), "the request's proof of possession verifies");
    assertEquals(new X500Name("CN=bench enrollee"), b.buildCertificate().getSubject());
    PKIMessage answer = PKIMessage.getInstance(b.encodeResponse());
    assertEquals(PKIBody.TYPE_CERT_REP, answer.getBody().getType());
    assertEquals(new X500Name("CN=bench enrollee"), new org.bouncycastle.cert.X509CertificateHolder(
        CertRepMessage.getInstance(answer.getBody().getContent()).getResponse()[0].getCertifiedKeyPair()
            .getCertOrEncCert().getCertificate().getX509v3PKCert()).getSubject());
  }
}
