package org.keyarc.ca.cmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpHeaders;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.MacKind;
import org.keyarc.protocol.cmp.ResponderCertificate;

/** The CMP responder driven in memory, on byte arrays: no node, no sockets. */
class CmpResponderTest {
  private static UnitCa ca;
  private static CmpResponder responder;

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    responder = ca.responder();
  }

  @AfterAll
  static void stop() throws Exception {
    if (ca != null) {
      ca.close();
    }
  }

  @Test
  void garbageIsAnsweredWithBadMessage() {
    PKIMessage answer = PKIMessage.getInstance(responder.handle(new byte[] {1, 2, 3, 4, 5}, null));
    PKIStatusInfo status = refusal(answer, ErrorCode.BAD_MESSAGE);
    assertTrue(KeyarcCmp.text(status).startsWith("[keyarc 31] "), KeyarcCmp.text(status));
  }

  @Test
  void unprotectedIrIsNotAuthorized() throws Exception {
    PKIMessage ir = new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(), caName(), null, null, null)
        .build(), irBody("CN=Nobody"));
    PKIMessage answer = PKIMessage.getInstance(responder.handle(ir.getEncoded(), null));
    refusal(answer, ErrorCode.NOT_AUTHORIZED);
    // an unauthenticated sender's error is unprotected (RFC 9810 allows it): no key signs what it chose
    assertNull(answer.getHeader().getProtectionAlg(), "the refusal is unprotected");
    assertNull(answer.getProtection());
  }

  @Test
  void macWithSevenByteSaltIsRefused() throws Exception {
    SecretService.NewSecret s = secret("CN=Salty");
    MacCalculator shortSalt = new PKMACBuilder(new JcePKMACValuesCalculator()).setParameters(new PBMParameter(
        new byte[7], new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), 1000,
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256))).build(s.secret());
    PKIMessage answer = PKIMessage.getInstance(responder.handle(macRequest(s, irBody("CN=Salty"), shortSalt), null));
    PKIStatusInfo status = refusal(answer, ErrorCode.BAD_MESSAGE_CHECK);
    assertTrue(KeyarcCmp.text(status).contains("salt is 7 bytes"), KeyarcCmp.text(status));
    // the MAC was never checked, so the answer is not protected with the secret (nor with anything)
    assertNull(answer.getHeader().getProtectionAlg(), "the refusal is unprotected");
  }

  @Test
  void answersAreSignedByTheResponderKeyNotTheCaKey() throws Exception {
    PKIBody genm = new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(
        CMPObjectIdentifiers.id_it_caCerts)));
    PKIMessage req = new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(), caName(), null, null, null)
        .build(), genm);
    PKIMessage answer = PKIMessage.getInstance(responder.handle(req.getEncoded(), null));
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(answer));
    X509CertificateHolder signer = p.getCertificates()[0];
    X509CertificateHolder caCert = ca.services.keys().caCert();
    assertNotEquals(caCert, signer, "not signed by the CA certificate");
    assertEquals(caCert, p.getCertificates()[1], "the CA certificate follows in extraCerts");
    ResponderCertificate.check(signer, caCert, new Date());
    assertEquals(signer.getSubject(), X500Name.getInstance(answer.getHeader().getSender().getName()));
    assertTrue(p.verify(new JcaContentVerifierProviderBuilder().build(signer)));
    assertFalse(p.verify(new JcaContentVerifierProviderBuilder().build(caCert)));
  }

  @Test
  void aProtectedRequestWithoutMessageTimeIsRefused() throws Exception {
    SecretService.NewSecret s = secret("CN=Timeless");
    byte[] request = new ProtectedPKIMessageBuilder(CmpHeaders.noName(), caName())
        .setTransactionID(CmpHeaders.nonce()).setSenderNonce(CmpHeaders.nonce())
        .setSenderKID(s.reference().getBytes(StandardCharsets.UTF_8)).setBody(irBody("CN=Timeless"))
        .build(CmpMac.calculator(MacKind.PBM, s.secret())).toASN1Structure().getEncoded();
    PKIMessage answer = PKIMessage.getInstance(responder.handle(request, null));
    assertTrue(KeyarcCmp.text(refusal(answer, ErrorCode.BAD_TIME)).contains("must carry a messageTime"));
    assertNull(answer.getHeader().getProtectionAlg());
  }

  @Test
  void theSameProtectedRequestTwiceIsAReplay() throws Exception {
    SecretService.NewSecret s = secret("CN=Unit Replay");
    byte[] request = macRequest(s, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(
        CMPObjectIdentifiers.id_it_caCerts))), CmpMac.calculator(MacKind.PBM, s.secret()));
    assertEquals(PKIBody.TYPE_GEN_REP, PKIMessage.getInstance(responder.handle(request, null)).getBody().getType());
    PKIMessage again = PKIMessage.getInstance(responder.handle(request, null));
    assertTrue(KeyarcCmp.text(refusal(again, ErrorCode.REPLAYED)).contains("already received"));
    assertNull(again.getHeader().getProtectionAlg(), "a replay is not answered with the secret");
  }

  @Test
  void genmForCaCertsAnswersTheCaCertificate() throws Exception {
    PKIBody genm = new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(
        CMPObjectIdentifiers.id_it_caCerts)));
    PKIMessage req = new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(), caName(), null, null, null)
        .build(), genm);
    PKIMessage answer = PKIMessage.getInstance(responder.handle(req.getEncoded(), null));
    assertEquals(PKIBody.TYPE_GEN_REP, answer.getBody().getType());
    InfoTypeAndValue[] infos = GenRepContent.getInstance(answer.getBody().getContent()).toInfoTypeAndValueArray();
    assertEquals(1, infos.length);
    assertEquals(CMPObjectIdentifiers.id_it_caCerts, infos[0].getInfoType());
    ASN1Sequence certs = ASN1Sequence.getInstance(infos[0].getInfoValue());
    assertEquals(1, certs.size());
    assertArrayEquals(ca.services.keys().caCert().getEncoded(), CMPCertificate.getInstance(certs.getObjectAt(0))
        .getX509v3PKCert().getEncoded());
  }

  @Test
  void irWithOneTimeSecretGetsACertificate() throws Exception {
    SecretService.NewSecret s = secret("CN=Unit Alice, O=keyarc");
    byte[] request = macRequest(s, irBody("CN=Unit Alice, O=keyarc"), CmpMac.calculator(MacKind.PBM, s.secret()));
    PKIMessage answer = PKIMessage.getInstance(responder.handle(request, null));
    assertEquals(PKIBody.TYPE_INIT_REP, answer.getBody().getType(), () -> answer.getBody().toString());
    assertTrue(new ProtectedPKIMessage(new GeneralPKIMessage(answer)).verify(CmpMac.verifier(MacKind.PBM),
        s.secret()), "the answer is MAC-protected with the secret");
    assertArrayEquals(s.reference().getBytes(StandardCharsets.UTF_8),
        answer.getHeader().getSenderKID().getOctets());
    CertRepMessage rep = CertRepMessage.getInstance(answer.getBody().getContent());
    assertEquals(1, rep.getCaPubs().length);
    assertArrayEquals(ca.services.keys().caCert().getEncoded(), rep.getCaPubs()[0].getX509v3PKCert().getEncoded());
    CertResponse r = rep.getResponse()[0];
    assertEquals(BigInteger.ZERO, r.getCertReqId().getValue());
    assertEquals(PKIStatus.GRANTED, r.getStatus().getStatus().intValue());
    X509CertificateHolder cert = new X509CertificateHolder(r.getCertifiedKeyPair().getCertOrEncCert()
        .getCertificate().getX509v3PKCert());
    assertEquals(new X500Name("CN=Unit Alice, O=keyarc"), cert.getSubject());
    assertEquals(ca.services.keys().caName(), cert.getIssuer());
  }

  @Test
  void aReferenceProbedFromManyPeersRunsOutOfItsOwnBudget() throws Exception {
    // limits.failuresPerReferencePerMinute (10): a distributed attacker gets no more tries than one peer
    SecretService.NewSecret s = secret("CN=Unit Probed");
    SecretService.NewSecret used = new SecretService.NewSecret(s.reference(), "wrong".toCharArray(), s.expires(),
        s.template(), s.subject(), s.subjectAltNames());
    for (int i = 1; i <= 10; i++) {
      PKIMessage answer = PKIMessage.getInstance(responder.handle(macRequest(used, irBody("CN=Unit Probed"),
          CmpMac.calculator(MacKind.PBM, used.secret())), null, "192.0.2." + i));
      // five wrong MACs lock the secret; then it is refused before any derivation
      refusal(answer, i <= 5 ? ErrorCode.BAD_MESSAGE_CHECK : ErrorCode.SECRET_LOCKED);
    }
    PKIMessage answer = PKIMessage.getInstance(responder.handle(macRequest(s, irBody("CN=Unit Probed"),
        CmpMac.calculator(MacKind.PBM, s.secret())), null, "192.0.2.99"));
    assertTrue(KeyarcCmp.text(refusal(answer, ErrorCode.RATE_LIMITED)).contains("with reference " + s.reference()));
    assertNull(answer.getHeader().getProtectionAlg());
  }

  // ------------------------------------------------------------------ helpers

  /** Checks that {@code answer} is an error with {@code code}'s text and failInfo; returns its status. */
  private static PKIStatusInfo refusal(PKIMessage answer, ErrorCode code) {
    assertEquals(PKIBody.TYPE_ERROR, answer.getBody().getType(), () -> answer.getBody().toString());
    ErrorMsgContent error = ErrorMsgContent.getInstance(answer.getBody().getContent());
    PKIStatusInfo status = error.getPKIStatusInfo();
    assertEquals(PKIStatus.REJECTION, status.getStatus().intValue());
    assertEquals(code, KeyarcCmp.codeOf(KeyarcCmp.text(status)), KeyarcCmp.text(status));
    assertNotNull(status.getFailInfo());
    assertEquals(code.failureInfo(), status.getFailInfo().intValue());
    assertEquals(code.number(), error.getErrorCode().intValueExact());
    return status;
  }

  private static GeneralName caName() {
    return new GeneralName(ca.services.keys().caName());
  }

  private static SecretService.NewSecret secret(String subject) throws Exception {
    return ca.services.secrets().create(Identity.localOperator(), "User", X500Subject.parse(subject));
  }

  private static PKIBody irBody(String subject) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    var req = new CertificateRequestMessageBuilder(BigInteger.ZERO).setSubject(new X500Name(subject))
        .setPublicKey(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .build();
    return new PKIBody(PKIBody.TYPE_INIT_REQ, new CertReqMessages(req.toASN1Structure()));
  }

  private static byte[] macRequest(SecretService.NewSecret s, PKIBody body, MacCalculator mac) throws Exception {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(CmpHeaders.noName(), caName())
        .setTransactionID(CmpHeaders.nonce()).setSenderNonce(CmpHeaders.nonce()).setMessageTime(new Date())
        .setSenderKID(s.reference().getBytes(StandardCharsets.UTF_8)).setBody(body);
    return b.build(mac).toASN1Structure().getEncoded();
  }
}
