package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.cmp.CmpResponder;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several CertReqMsg in one signed cr: each gets its own certificate or its own refusal, in one answer; what
 * cannot be batched (a one-time secret, too many, a certReqId twice) is refused whole and stores nothing.
 */
class BatchEnrollmentE2eTest {
  static TestCa ca;
  static TestCa.Enrollee user;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
    user = ca.enrollUser("CN=Batch");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static long certificates() throws Exception {
    return ca.services().store().inTransaction(tx -> tx.certificates().count());
  }

  private static CmpClient.CertRequestEntry entry(KeyPair kp) throws Exception {
    return new CmpClient.CertRequestEntry(TestCa.spki(kp), TestCa.pop(kp), null);
  }

  @Test
  void eachRequestInTheMessageIsAnsweredOnItsOwn() throws Exception {
    for (String url : new String[] {ca.binaryUrl(), ca.httpUrl()}) {
      List<KeyPair> keys = new ArrayList<>();
      List<CmpClient.CertRequestEntry> entries = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        keys.add(TestCa.ecKey());
        entries.add(entry(keys.get(i)));
      }
      // entry 2 proves possession of another key than the one it asks a certificate for
      entries.set(2, new CmpClient.CertRequestEntry(TestCa.spki(keys.get(2)), TestCa.pop(TestCa.ecKey()), null));
      long before = certificates();
      try (CmpClient client = ca.signedClient(url, user)) {
        byte[] answer = client.transport().send(client.prepareCertRequests(PKIBody.TYPE_CERT_REQ,
            new X500Name("CN=Batch"), entries, null)).get();
        List<CmpClient.CertResult> results = client.certificatesOf(answer);
        assertEquals(5, results.size(), url);
        for (int i = 0; i < 5; i++) {
          CmpClient.CertResult r = results.get(i);
          assertEquals(BigInteger.valueOf(i), r.certReqId());
          if (i == 2) {
            assertNull(r.cert());
            assertEquals(ErrorCode.BAD_POP, r.refusal().code(), r.refusal().getMessage());
          } else {
            assertNull(r.refusal(), () -> String.valueOf(r.refusal()));
            assertArrayEquals(keys.get(i).getPublic().getEncoded(), r.cert().getSubjectPublicKeyInfo().getEncoded(),
                "certificate " + i + " is for key " + i);
            assertEquals(new X500Name("CN=Batch"), r.cert().getSubject());
          }
        }
      }
      assertEquals(before + 4, certificates(), "four certificates stored, none for the refused entry");
    }
  }

  /** keyarc_store_group_commit_size's count and sum on the node's /metrics: commits so far, units committed. */
  private static double[] commits() throws Exception {
    return new double[] {ca.metric("keyarc_store_group_commit_size_count", null),
        ca.metric("keyarc_store_group_commit_size_sum", null)};
  }


  /**
   * Issue 19: the entries of one message are issued side by side and share their group commits. Sixteen
   * certificates (and the message's replay record) used to take seventeen commits, one after the other; now they
   * reach the committer together, and the node's own metric shows far fewer commits than units.
   */
  @Test
  void sixteenCertificatesInOneMessageShareTheirCommits() throws Exception {
    List<CmpClient.CertRequestEntry> entries = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      entries.add(entry(TestCa.ecKey()));
    }
    try (CmpClient client = ca.signedClient(ca.binaryUrl(), user)) {
      client.transport().send(client.prepareCertRequests(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Batch"), entries,
          null)).get(); // the connection and its first message: warm
      double[] before = commits();
      byte[] answer = client.transport().send(client.prepareCertRequests(PKIBody.TYPE_CERT_REQ,
          new X500Name("CN=Batch"), entries.stream().map(e -> {
            try {
              return entry(TestCa.ecKey());
            } catch (Exception x) {
              throw new IllegalStateException(x);
            }
          }).toList(), null)).get();
      double[] after = commits();
      assertTrue(client.certificatesOf(answer).stream().allMatch(r -> r.cert() != null));
      double units = after[1] - before[1];
      double commits = after[0] - before[0];
      assertTrue(units >= 16, "the sixteen certificates were committed: " + units);
      assertTrue(commits <= 8, commits + " commits for " + units + " units of work (one after the other: 17)");
    }
  }

  @Test
  void whatCannotBeBatchedIsRefusedWhole() throws Exception {
    long before = certificates();
    List<CmpClient.CertRequestEntry> two = List.of(entry(TestCa.ecKey()), entry(TestCa.ecKey()));
    try (CmpClient mac = ca.macClient(ca.binaryUrl(), ca.secret("User", "CN=Batch Secret"))) {
      CmpClientException e = assertThrows(CmpClientException.class, () -> mac.certificateOf(mac.transport().send(
          mac.prepareCertRequests(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Batch Secret"), two, null)).get()));
      assertEquals(ErrorCode.BAD_REQUEST, e.code());
      assertTrue(e.getMessage().contains("a one-time secret is for one certificate"), e.getMessage());
    }
    try (CmpClient client = ca.signedClient(ca.binaryUrl(), user)) {
      List<CmpClient.CertRequestEntry> many = new ArrayList<>();
      KeyPair kp = TestCa.ecKey();
      for (int i = 0; i <= CmpResponder.MAX_CERT_REQUESTS; i++) {
        many.add(entry(kp));
      }
      CmpClientException e = assertThrows(CmpClientException.class, () -> client.certificateOf(client.transport()
          .send(client.prepareCertRequests(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Batch"), many, null)).get()));
      assertEquals(ErrorCode.BAD_REQUEST, e.code());
      assertTrue(e.getMessage().contains("at most " + CmpResponder.MAX_CERT_REQUESTS), e.getMessage());
      // the largest batch is fine
      List<CmpClient.CertResult> results = client.certificatesOf(client.transport().send(client.prepareCertRequests(
          PKIBody.TYPE_CERT_REQ, new X500Name("CN=Batch"), many.subList(0, CmpResponder.MAX_CERT_REQUESTS), null))
          .get());
      assertEquals(CmpResponder.MAX_CERT_REQUESTS, results.size());
      results.forEach(r -> assertNotNull(r.cert(), () -> String.valueOf(r.refusal())));
    }
    assertEquals(before + CmpResponder.MAX_CERT_REQUESTS, certificates(), "only the largest batch was issued");
  }
}
