package org.keyarc.ca.e2e;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.client.BinaryTransport;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.Protection;
import org.keyarc.protocol.frame.CmpFrame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 1,000 requests in flight on one binary connection: every one answered with its own certificate. */
class PipeliningE2eTest {
  static final int REQUESTS = 1000;

  @Test
  void thousandRequestsInFlightOnOneConnection() throws Exception {
    try (TestCa ca = TestCa.start()) {
      TestCa.Enrollee user = ca.enrollUser("CN=Pipeline");
      BinaryTransport transport = BinaryTransport.connect("127.0.0.1", ca.node.binaryPort(), ca.tls(),
          CmpFrame.DEFAULT_MAX_FRAME);
      try (CmpClient client = new CmpClient(transport,
          new Protection.Signature(user.cert(), user.keys().getPrivate(), null), ca.caCert())) {
        List<KeyPair> keys = new ArrayList<>();
        List<byte[]> requests = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
          KeyPair kp = TestCa.ecKey();
          keys.add(kp);
          requests.add(client.prepareCertRequest(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Pipeline"),
              TestCa.spki(kp), TestCa.pop(kp), null));
        }
        List<CompletableFuture<byte[]>> answers = new ArrayList<>();
        for (byte[] r : requests) {
          answers.add(transport.send(r)); // nothing awaited: all 1,000 go out before the first answer is read
        }
        int maxInFlight = transport.inFlight();
        CompletableFuture.allOf(answers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
        Set<java.math.BigInteger> serials = new HashSet<>();
        for (int i = 0; i < REQUESTS; i++) {
          X509CertificateHolder cert = client.certificateOf(answers.get(i).get());
          assertArrayEquals(keys.get(i).getPublic().getEncoded(), cert.getSubjectPublicKeyInfo().getEncoded(),
              "answer " + i + " carries the certificate of request " + i);
          serials.add(cert.getSerialNumber());
        }
        assertEquals(REQUESTS, serials.size());
        assertTrue(maxInFlight > 1, "requests were in flight together (" + maxInFlight + ")");
      }
    }
  }
}
