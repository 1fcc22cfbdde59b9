package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClientException;

/**
 * A peer that keeps failing authentication runs out of its budget (limits.failuresPerPeerPerMinute, 20 by
 * default): from then on every request from its address is answered RATE_LIMITED, unprotected and before any
 * work, and the trip is audited once, not per request.
 */
class RateLimitE2eTest {

  @Test
  void theTwentyFirstFailureAndEverythingAfterItIsRateLimitedAndAuditedOnce() throws Exception {
    try (TestCa ca = TestCa.start()) {
      SecretService.NewSecret victim = ca.secret("User", "CN=Patient User, O=keyarc");
      long certs = ca.services().store().inTransaction(tx -> tx.certificates().count());
      long seq = ca.services().store().inTransaction(tx -> tx.audit().head().seq());
      AlgorithmIdentifier forged = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, new PBMAC1Params(
          new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2, new PBKDF2Params(Attacker.random(16), 1_000, 1,
              new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))),
          new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE)));
      for (int i = 1; i <= 40; i++) {
        byte[] der = Attacker.header(new X500Name(""), ca.caCert().getSubject())
            .setSenderKID(victim.reference().getBytes(StandardCharsets.UTF_8))
            .setBody(Attacker.ir("CN=Patient User, O=keyarc"))
            .build(Attacker.claiming(forged, Attacker.hmacSha256(new byte[] {(byte) i}))).toASN1Structure()
            .getEncoded();
        PKIMessage answer = Attacker.post(ca.httpUrl(), der);
        assertEquals(PKIBody.TYPE_ERROR, answer.getBody().getType());
        assertTrue(Attacker.unprotected(answer));
        if (i <= 20) {
          assertEquals(35, Attacker.keyarcCode(answer), i + ": " + Attacker.errorText(answer));
        } else {
          assertEquals(60, Attacker.keyarcCode(answer), i + ": " + Attacker.errorText(answer));
          assertEquals(PKIFailureInfo.systemUnavail, Attacker.failInfo(answer));
          assertTrue(Attacker.errorText(answer).contains("too many failed authentications from 127.0.0.1"),
              Attacker.errorText(answer));
        }
      }
      // a garbage request from that address is refused the same way, cheaply
      PKIMessage garbage = Attacker.post(ca.httpUrl(), Attacker.header(new X500Name(""), ca.caCert().getSubject())
          .setBody(Attacker.ir("CN=x")).build(Attacker.hmacSha256(new byte[32])).toASN1Structure().getEncoded());
      assertEquals(60, Attacker.keyarcCode(garbage), Attacker.errorText(garbage));
      // so is a good request from the same address (a peer is an address: NAT neighbours share the budget)
      var kp = TestCa.ecKey();
      try (var c = ca.macClient(ca.binaryUrl(), victim)) {
        CmpClientException e = assertThrows(CmpClientException.class, () -> c.enroll(PKIBody.TYPE_INIT_REQ,
            new X500Name("CN=Patient User, O=keyarc"), TestCa.spki(kp), TestCa.pop(kp), null, false, null));
        assertEquals(ErrorCode.RATE_LIMITED, e.code(), e.getMessage());
      }
      assertEquals(certs, (long) ca.services().store().inTransaction(tx -> tx.certificates().count()));
      List<AuditStore.Row> audit = ca.services().store().inTransaction(tx -> tx.audit().records(seq + 1,
          Long.MAX_VALUE));
      assertEquals(20, audit.stream().filter(r -> r.action().equals("auth.mac.failed")).count());
      List<AuditStore.Row> trips = audit.stream().filter(r -> r.action().equals("auth.rate-limited")).toList();
      assertEquals(1, trips.size(), "one record for the trip, not one per refused request: " + trips);
      assertEquals("peer:127.0.0.1", trips.get(0).target());
      assertEquals(21, audit.size());
      // the secret itself was never at risk: parameters refused before derivation do not count against it
      assertEquals(0, ca.services().store().inTransaction(tx -> tx.secrets().find(victim.reference()))
          .orElseThrow().failures());
    }
  }
}
