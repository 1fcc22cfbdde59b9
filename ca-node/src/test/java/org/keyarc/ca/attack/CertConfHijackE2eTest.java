package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.attack.Actors.Party;
import org.keyarc.ca.attack.Actors.Secret;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.protocol.ErrorCode;

/**
 * Issue 12's "certConf hijack": any authenticated sender, even one holding a used secret, sent certConf for
 * another client's transaction, and its rejection revoked that certificate even after it was confirmed. Now
 * only the identity that started a transaction confirms, rejects or polls it, and a confirmed certificate is
 * revoked by rr alone: every hijack is NOT_AUTHORIZED, audited, and the victim's certificate stays off the CRL
 * (a secret used in another transaction does not even authenticate: SECRET_INVALID, audited auth.secret.refused).
 */
class CertConfHijackE2eTest {
  static TestCa ca;
  static Party ada;
  static Party max;
  /**
   * The attacker's secret, already used for its own certificate: it still authenticates certConf and pollReq of
   * its own transaction only, so in another's it is refused at authentication (SECRET_INVALID).
   */
  static Secret spent;
  static Party mallory;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
    ada = Actors.administrator(ca, "CN=Ada Admin");
    max = Actors.member(ca, ada, "CN=Max Manager", "manager");
    spent = Actors.secret(ca, max, "User", "CN=Mallory");
    mallory = Actors.enroll(ca, spent, "CN=Mallory");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** The victim's transaction: an ir without implicit confirmation, answered with a certificate to confirm. */
  record Victim(Secret secret, byte[] tx, PKIMessage answer, X509CertificateHolder cert) {}

  private static Victim victim(String dn, byte[] tx) throws Exception {
    Secret s = Actors.secret(ca, max, "User", dn);
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.certRequest(s.mac(), PKIBody.TYPE_INIT_REQ, tx, new X500Name(dn), TestCa.ecKey(), null, false);
      X509CertificateHolder cert = Wire.granted(a);
      assertNotNull(cert, Wire.text(a));
      return new Victim(s, tx, a, cert);
    }
  }

  private static String status(BigInteger serial) throws Exception {
    return Actors.ok(ca, max, "{\"op\":\"cert.show\",\"serial\":\"" + serial.toString(16) + "\"}").path("certificate")
        .path("status").asText();
  }

  private static boolean onCrl(Wire w, BigInteger serial) throws Exception {
    return w.currentCrl(mallory.sig()).getRevokedCertificate(serial) != null;
  }

  private static void assertHijackRefused(PKIMessage a) {
    assertEquals(ErrorCode.NOT_AUTHORIZED.number(), Wire.code(a), Wire.text(a));
  }

  /**
   * A secret used in another transaction authenticates nothing of this one: refused before the requester check,
   * at authentication (SECRET_INVALID, audited auth.secret.refused).
   */
  private static void assertSpentSecretRefused(PKIMessage a) {
    assertEquals(ErrorCode.SECRET_INVALID.number(), Wire.code(a), Wire.text(a));
    assertTrue(Wire.message(a).contains("was already used"), Wire.message(a));
  }

  @Test
  void anotherClientsRejectionOfAnUnconfirmedCertificateIsRefused() throws Exception {
    Victim v = victim("CN=Vic Victim", Wire.nonce());
    Secret unused = Actors.secret(ca, max, "User", "CN=Mallory Three");
    long refusals = Actors.audited(ca, "authz.refused");
    long revocations = Actors.audited(ca, "cert.revoke");
    try (Wire w = Actors.wire(ca)) {
      // with a used secret of its own: it serves only its own transaction
      long secretRefusals = Actors.audited(ca, "auth.secret.refused");
      assertSpentSecretRefused(w.certConf(spent.mac(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), false));
      assertEquals(secretRefusals + 1, Actors.audited(ca, "auth.secret.refused"));
      // with an unused secret (it authenticates), and with its certificate: not the transaction's requester
      PKIMessage bySecret = w.certConf(unused.mac(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), false);
      assertHijackRefused(bySecret);
      assertTrue(Wire.message(bySecret).startsWith("secret:" + unused.reference() + " did not start transaction "
          + Wire.hex(v.tx()) + ": only its requester may confirm or reject certificate"), Wire.message(bySecret));
      assertHijackRefused(w.certConf(mallory.sig(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), false));
      // a certificate manager is no requester either: rejection is the requester's, revocation is rr
      assertHijackRefused(w.certConf(max.sig(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), false));
      assertEquals("UNCONFIRMED", status(v.cert().getSerialNumber()));
      assertEquals(revocations, Actors.audited(ca, "cert.revoke"));
      assertEquals(refusals + 3, Actors.audited(ca, "authz.refused"));
      assertTrue(Actors.lastAudit(ca, "authz.refused").startsWith("CN=Max Manager | certConf | code=34"),
          Actors.lastAudit(ca, "authz.refused"));

      // the victim confirms; its certificate is valid and not on the CRL
      PKIMessage ok = w.certConf(v.secret().mac(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), true);
      assertEquals(PKIBody.TYPE_CONFIRM, ok.getBody().getType(), Wire.text(ok));
      assertEquals("ISSUED", status(v.cert().getSerialNumber()));
      assertTrue(!onCrl(w, v.cert().getSerialNumber()), "the victim's certificate is not on the CRL");
    }
  }

  @Test
  void aConfirmedCertificateIsNotRevokedByCertConf() throws Exception {
    Victim v = victim("CN=Vera Victim", Wire.nonce());
    try (Wire w = Actors.wire(ca)) {
      assertEquals(PKIBody.TYPE_CONFIRM, w.certConf(v.secret().mac(), v.tx(), Wire.senderNonce(v.answer()), v.cert(),
          true).getBody().getType());
      // later, a rejection, by the attacker or by the requester's own secret, changes nothing
      assertSpentSecretRefused(w.certConf(spent.mac(), v.tx(), null, v.cert(), false));
      PKIMessage late = w.certConf(v.secret().mac(), v.tx(), null, v.cert(), false);
      assertHijackRefused(late);
      assertTrue(Wire.message(late).contains("is already confirmed: certConf can no longer reject it; its holder or a "
          + "certificate manager revokes it with rr"), Wire.message(late));
      assertEquals("ISSUED", status(v.cert().getSerialNumber()));
      assertTrue(!onCrl(w, v.cert().getSerialNumber()), "not on the CRL");
    }
  }

  @Test
  void theAttackerReusingTheVictimsTransactionIdCannotRejectTheVictimsCertificate() throws Exception {
    byte[] tx = Wire.nonce();
    Victim v = victim("CN=Val Victim", tx);
    Secret own = Actors.secret(ca, max, "User", "CN=Mallory Two");
    try (Wire w = Actors.wire(ca)) {
      // the attacker enrolls in the victim's transaction, then rejects the victim's certificate in it
      PKIMessage mine = w.certRequest(own.mac(), PKIBody.TYPE_INIT_REQ, tx, new X500Name("CN=Mallory Two"),
          TestCa.ecKey(), null, false);
      assertNotNull(Wire.granted(mine), Wire.text(mine));
      assertHijackRefused(w.certConf(own.mac(), tx, Wire.senderNonce(mine), v.cert(), false));
      assertEquals("UNCONFIRMED", status(v.cert().getSerialNumber()));
      // each still confirms its own
      assertEquals(PKIBody.TYPE_CONFIRM, w.certConf(v.secret().mac(), tx, Wire.senderNonce(v.answer()), v.cert(), true)
          .getBody().getType());
      assertEquals(PKIBody.TYPE_CONFIRM, w.certConf(own.mac(), tx, Wire.senderNonce(mine), Wire.granted(mine), true)
          .getBody().getType());
    }
  }

  @Test
  void onlyTheRequesterPollsItsHeldRequest() throws Exception {
    Secret s = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Kit Agent");
    byte[] tx = Wire.nonce();
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.p10cr(s.mac(), tx, Wire.csr(new X500Name("CN=Kit Agent"), TestCa.rsaKey(2048)));
      assertEquals(3, Wire.status(a), Wire.text(a));
      long id = Actors.ok(ca, max, "{\"op\":\"request.list\"}").path("requests").findValues("id").stream()
          .mapToLong(n -> n.asLong()).max().orElseThrow();
      Actors.ok(ca, max, "{\"op\":\"request.approve\",\"id\":" + id + "}");
      assertSpentSecretRefused(w.pollReq(spent.mac(), tx));
      Secret unused = Actors.secret(ca, max, "User", "CN=Mallory Four");
      for (Wire.Protection thief : new Wire.Protection[] {unused.mac(), mallory.sig(), max.sig()}) {
        PKIMessage stolen = w.pollReq(thief, tx);
        assertHijackRefused(stolen);
        assertNull(Wire.granted(stolen));
      }
      assertNotNull(Wire.granted(w.pollReq(s.mac(), tx)), "the requester gets it");
    }
  }

  @Test
  void revocationByRrStaysWithTheHolderOrAManager() throws Exception {
    Victim v = victim("CN=Rita Victim", Wire.nonce());
    try (Wire w = Actors.wire(ca)) {
      w.certConf(v.secret().mac(), v.tx(), Wire.senderNonce(v.answer()), v.cert(), true);
      org.bouncycastle.asn1.cmp.RevDetails d = new org.bouncycastle.asn1.cmp.RevDetails(
          new org.bouncycastle.asn1.crmf.CertTemplateBuilder().setIssuer(ca.caCert().getSubject())
              .setSerialNumber(new org.bouncycastle.asn1.ASN1Integer(v.cert().getSerialNumber())).build());
      PKIMessage rr = w.send(w.request(mallory.sig(), Wire.nonce(), null, new PKIBody(PKIBody.TYPE_REVOCATION_REQ,
          new org.bouncycastle.asn1.cmp.RevReqContent(d))));
      assertHijackRefused(rr);
      assertEquals("ISSUED", status(v.cert().getSerialNumber()));
    }
  }
}
