package org.keyarc.ca.cmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpHeaders;

/** The fuzz campaign's worker killers and range overflows, answered as malformed messages (error 31). */
class HostileInputTest {
  private static UnitCa ca;
  private static CmpResponder responder;

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    responder = ca.responder();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static String refusal(byte[] request) {
    PKIMessage answer = PKIMessage.getInstance(responder.handle(request, null));
    assertEquals(PKIBody.TYPE_ERROR, answer.getBody().getType());
    return KeyarcCmp.text(ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo());
  }

  @Test
  void fortyKilobytesOfNestedSequencesGetAnAnswerNotAStackOverflow() {
    byte[] inner = {0x05, 0x00};
    for (int i = 0; i < 20_000; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(0x30);
      int len = inner.length;
      if (len < 0x80) {
        out.write(len);
      } else if (len < 0x100) {
        out.write(0x81);
        out.write(len);
      } else {
        out.write(0x82);
        out.write(len >> 8);
        out.write(len);
      }
      out.writeBytes(inner);
      inner = out.toByteArray();
    }
    String text = refusal(inner);
    assertTrue(text.startsWith("[keyarc 31]") && text.contains("nesting deeper than 32"), text);
  }

  @Test
  void indefiniteLengthsAreRefused() {
    String text = refusal(new byte[] {0x30, (byte) 0x80, 0x30, (byte) 0x80, 0x00, 0x00, 0x00, 0x00});
    assertTrue(text.startsWith("[keyarc 31]") && text.contains("indefinite length"), text);
  }

  @Test
  void aVersionNumberOverflowingAnIntIsMalformedNotAServerFault() throws Exception {
    PKIMessage ok = new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(),
        new GeneralName(ca.services.keys().caName()), null, null, null).build(),
        new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts))));
    DERSequence header = (DERSequence) ok.getHeader().toASN1Primitive();
    ASN1Encodable[] fields = header.toArray();
    fields[0] = new ASN1Integer(BigInteger.TWO.pow(80));
    byte[] hostile = new DERSequence(new ASN1Encodable[] {new DERSequence(fields), ok.getBody()}).getEncoded();
    String text = refusal(hostile);
    assertTrue(text.startsWith("[keyarc 31]"), text);
  }

  /** A key no template allows is refused before its proof of possession is checked (it would cost seconds). */
  @Test
  void aHugeRsaKeyOrExponentIsRefusedBeforeItsProofOfPossession() throws Exception {
    for (java.math.BigInteger[] ne : new java.math.BigInteger[][] {
        {BigInteger.ONE.shiftLeft(16383).setBit(0), BigInteger.valueOf(65537)},
        {BigInteger.ONE.shiftLeft(2047).setBit(0), BigInteger.ONE.shiftLeft(4_000_000).setBit(0)}}) {
      org.keyarc.ca.auth.SecretService.NewSecret s = ca.services.secrets().create(
          org.keyarc.ca.auth.Identity.localOperator(), "User", org.keyarc.ca.config.X500Subject.parse("CN=Huge Key"));
      org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki = new org.bouncycastle.asn1.x509.SubjectPublicKeyInfo(
          new org.bouncycastle.asn1.x509.AlgorithmIdentifier(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption,
              org.bouncycastle.asn1.DERNull.INSTANCE), new org.bouncycastle.asn1.pkcs.RSAPublicKey(ne[0], ne[1]));
      // a POP signature that would take long to check (and is garbage anyway)
      org.bouncycastle.asn1.crmf.CertTemplate tpl = new org.bouncycastle.asn1.crmf.CertTemplateBuilder()
          .setSubject(new org.bouncycastle.asn1.x500.X500Name("CN=Huge Key")).setPublicKey(spki).build();
      org.bouncycastle.asn1.crmf.CertRequest cr = new org.bouncycastle.asn1.crmf.CertRequest(0, tpl, null);
      org.bouncycastle.asn1.crmf.POPOSigningKey pop = new org.bouncycastle.asn1.crmf.POPOSigningKey(null,
          new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
              org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha256WithRSAEncryption),
          new org.bouncycastle.asn1.DERBitString(new byte[2048]));
      org.bouncycastle.asn1.crmf.CertReqMsg msg = new org.bouncycastle.asn1.crmf.CertReqMsg(cr,
          new org.bouncycastle.asn1.crmf.ProofOfPossession(pop), null);
      PKIBody body = new PKIBody(PKIBody.TYPE_INIT_REQ, new org.bouncycastle.asn1.crmf.CertReqMessages(msg));
      byte[] request = new org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder(CmpHeaders.noName(),
          new GeneralName(ca.services.keys().caName())).setTransactionID(CmpHeaders.nonce())
          .setSenderNonce(CmpHeaders.nonce()).setMessageTime(new java.util.Date())
          .setSenderKID(s.reference().getBytes(java.nio.charset.StandardCharsets.UTF_8)).setBody(body)
          .build(org.keyarc.protocol.cmp.CmpMac.calculator(org.keyarc.protocol.cmp.MacKind.PBM, s.secret()))
          .toASN1Structure().getEncoded();
      long start = System.nanoTime();
      PKIMessage answer = PKIMessage.getInstance(responder.handle(request, null));
      long millis = (System.nanoTime() - start) / 1_000_000;
      String text = answer.getBody().getType() == PKIBody.TYPE_ERROR
          ? KeyarcCmp.text(ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo())
          : KeyarcCmp.text(org.bouncycastle.asn1.cmp.CertRepMessage.getInstance(answer.getBody().getContent())
              .getResponse()[0].getStatus());
      assertTrue(text.startsWith("[keyarc 38]"), "refused for the key, not for its POP: " + text + " (" + millis
          + " ms)");
    }
  }

  /** The reviewer's 33-byte transactionID failed with SQL text after the HSM had signed; now it is refused first. */
  @Test
  void aTransactionIdLongerThanItsColumnIsRefusedBeforeAnything() throws Exception {
    org.keyarc.ca.auth.SecretService.NewSecret s = ca.services.secrets().create(
        org.keyarc.ca.auth.Identity.localOperator(), "User", org.keyarc.ca.config.X500Subject.parse("CN=Long Tx"));
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    java.security.KeyPair kp = g.generateKeyPair();
    org.bouncycastle.cert.crmf.jcajce.JcaCertificateRequestMessageBuilder crmf =
        new org.bouncycastle.cert.crmf.jcajce.JcaCertificateRequestMessageBuilder(BigInteger.ZERO);
    crmf.setSubject(new org.bouncycastle.asn1.x500.X500Name("CN=Long Tx")).setPublicKey(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
            "SHA256withECDSA").build(kp.getPrivate()));
    PKIBody body = new PKIBody(PKIBody.TYPE_INIT_REQ,
        new org.bouncycastle.asn1.crmf.CertReqMessages(crmf.build().toASN1Structure()));
    byte[] request = new org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder(CmpHeaders.noName(),
        new GeneralName(ca.services.keys().caName())).setTransactionID(new byte[33])
        .setSenderNonce(CmpHeaders.nonce()).setMessageTime(new java.util.Date())
        .setSenderKID(s.reference().getBytes(java.nio.charset.StandardCharsets.UTF_8)).setBody(body)
        .build(org.keyarc.protocol.cmp.CmpMac.calculator(org.keyarc.protocol.cmp.MacKind.PBM, s.secret()))
        .toASN1Structure().getEncoded();
    String text = refusal(request);
    assertTrue(text.startsWith("[keyarc 31]") && text.contains("transactionID of 8..32 bytes"), text);
    assertTrue(!text.toLowerCase(java.util.Locale.ROOT).contains("column"), "no SQL in the answer: " + text);
    assertTrue(ca.store.inTransaction(tx -> tx.certificates().list(null, "CN=Long Tx", 10)).isEmpty(),
        "nothing was issued");
  }
}
