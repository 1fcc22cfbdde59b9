package org.keyarc.protocol.cmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

class CmpHeadersTest {
  private static final char[] SECRET = "s3cret".toCharArray();
  private static final GeneralName CLIENT = new GeneralName(new X500Name("CN=client,O=keyarc"));
  private static final GeneralName CA = new GeneralName(new X500Name("CN=keyarc CA"));

  /** The header as the receiver reads it: built, MAC-protected, encoded and parsed again. */
  private static PKIHeader wire(ProtectedPKIMessageBuilder b) throws Exception {
    PKIMessage m = b.setBody(new PKIBody(PKIBody.TYPE_CONFIRM, DERNull.INSTANCE))
        .build(CmpMac.calculator(MacKind.PBM, SECRET)).toASN1Structure();
    return PKIMessage.getInstance(m.getEncoded()).getHeader();
  }

  private static PKIHeader wire(org.bouncycastle.asn1.cmp.PKIHeaderBuilder h) throws Exception {
    PKIMessage m = new PKIMessage(h.build(), new PKIBody(PKIBody.TYPE_CONFIRM, DERNull.INSTANCE));
    return PKIMessage.getInstance(m.getEncoded()).getHeader();
  }

  private static void assertNow(PKIHeader h) throws Exception {
    assertNotNull(h.getMessageTime());
    Instant t = h.getMessageTime().getDate().toInstant();
    assertTrue(Duration.between(t, Instant.now()).abs().toSeconds() < 60, t.toString());
  }

  @Test
  void aRequestCarriesWhatItWasGiven() throws Exception {
    byte[] tx = CmpHeaders.nonce();
    byte[] nonce = CmpHeaders.nonce();
    byte[] recipNonce = CmpHeaders.nonce();
    ProtectedPKIMessageBuilder b = CmpHeaders.request(CLIENT, CA, tx, nonce, recipNonce);
    CmpHeaders.addImplicitConfirm(b);
    CmpHeaders.addCertProfile(b, "tls-server");
    PKIHeader h = wire(b);
    assertEquals(PKIHeader.CMP_2000, h.getPvno().intValueExact());
    assertEquals(CLIENT, h.getSender());
    assertEquals(CA, h.getRecipient());
    assertArrayEquals(tx, CmpHeaders.transactionId(h));
    assertArrayEquals(nonce, CmpHeaders.senderNonce(h));
    assertArrayEquals(recipNonce, CmpHeaders.recipNonce(h));
    assertNow(h);
    assertTrue(CmpHeaders.implicitConfirm(h));
    assertEquals("tls-server", CmpHeaders.certProfile(h));
    // implicitConfirm first, then certProfile: the order the client has always sent
    assertEquals(CmpHeaders.IMPLICIT_CONFIRM, h.getGeneralInfo()[0].getInfoType());
    assertEquals(CmpHeaders.CERT_PROFILE, h.getGeneralInfo()[1].getInfoType());
  }

  @Test
  void aRequestWithoutIdsGetsFreshOnesAndNoGeneralInfo() throws Exception {
    PKIHeader h = wire(CmpHeaders.request(CLIENT, CA, null, null, null));
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.transactionId(h).length);
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.senderNonce(h).length);
    assertFalse(Arrays.equals(CmpHeaders.transactionId(h), CmpHeaders.senderNonce(h)));
    assertNull(CmpHeaders.recipNonce(h));
    assertNull(h.getGeneralInfo());
    assertFalse(CmpHeaders.implicitConfirm(h));
    assertNull(CmpHeaders.certProfile(h));
  }

  @Test
  void anAnswerEchoesTheRequest() throws Exception {
    PKIHeader request = wire(CmpHeaders.request(CLIENT, CA, null, null, null));
    PKIHeader h = wire(CmpHeaders.addImplicitConfirm(CmpHeaders.answer(CA, request)));
    assertEquals(CA, h.getSender());
    assertEquals(CLIENT, h.getRecipient());
    assertArrayEquals(CmpHeaders.transactionId(request), CmpHeaders.transactionId(h));
    assertArrayEquals(CmpHeaders.senderNonce(request), CmpHeaders.recipNonce(h));
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.senderNonce(h).length);
    assertFalse(Arrays.equals(CmpHeaders.senderNonce(request), CmpHeaders.senderNonce(h)));
    assertNow(h);
    assertTrue(CmpHeaders.implicitConfirm(h));
    assertNull(CmpHeaders.certProfile(h));
  }

  @Test
  void anAnswerToNoRequestStartsAFreshTransaction() throws Exception {
    PKIHeader h = wire(CmpHeaders.answer(CA, null));
    assertEquals(CmpHeaders.noName(), h.getRecipient());
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.transactionId(h).length);
    assertNull(CmpHeaders.recipNonce(h));
    assertFalse(CmpHeaders.implicitConfirm(h));
  }

  @Test
  void unprotectedHeadersCarryTheSameFields() throws Exception {
    byte[] tx = CmpHeaders.nonce();
    byte[] nonce = CmpHeaders.nonce();
    PKIHeader request = wire(CmpHeaders.unprotectedRequest(CLIENT, CA, tx, nonce, null));
    assertEquals(CLIENT, request.getSender());
    assertEquals(CA, request.getRecipient());
    assertArrayEquals(tx, CmpHeaders.transactionId(request));
    assertArrayEquals(nonce, CmpHeaders.senderNonce(request));
    assertNull(CmpHeaders.recipNonce(request));
    assertNow(request);
    assertNull(request.getProtectionAlg());

    PKIHeader answer = wire(CmpHeaders.unprotectedAnswer(CA, request));
    assertEquals(CLIENT, answer.getRecipient());
    assertArrayEquals(tx, CmpHeaders.transactionId(answer));
    assertArrayEquals(nonce, CmpHeaders.recipNonce(answer));
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.senderNonce(answer).length);
    assertNull(answer.getMessageTime());

    PKIHeader orphan = wire(CmpHeaders.unprotectedAnswer(CA, null));
    assertEquals(CmpHeaders.noName(), orphan.getRecipient());
    assertEquals(CmpHeaders.NONCE_LENGTH, CmpHeaders.transactionId(orphan).length);
    assertNull(CmpHeaders.recipNonce(orphan));
  }

  @Test
  void aCertProfileThatIsNotASequenceOfUtf8StringIsABadMessage() throws Exception {
    for (InfoTypeAndValue bad : new InfoTypeAndValue[] {
        new InfoTypeAndValue(CmpHeaders.CERT_PROFILE, new DERUTF8String("tls-server")),
        new InfoTypeAndValue(CmpHeaders.CERT_PROFILE, new org.bouncycastle.asn1.DERSequence()),
        new InfoTypeAndValue(CmpHeaders.CERT_PROFILE)}) {
      PKIHeader h = wire(CmpHeaders.request(CLIENT, CA, null, null, null).addGeneralInfo(bad));
      CmpProtectionException e = assertThrows(CmpProtectionException.class, () -> CmpHeaders.certProfile(h));
      assertEquals(ErrorCode.BAD_MESSAGE, e.code());
      assertEquals("certProfile must be a SEQUENCE of UTF8String", e.getMessage());
    }
  }

  @Test
  void idsOfANullHeaderAreNull() {
    assertNull(CmpHeaders.transactionId(null));
    assertNull(CmpHeaders.senderNonce(null));
    assertNull(CmpHeaders.recipNonce(null));
  }
}
