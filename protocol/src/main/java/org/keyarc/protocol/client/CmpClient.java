package org.keyarc.protocol.client;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.cmp.PollRepContent;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.cmp.RevDetails;
import org.bouncycastle.asn1.cmp.RevRepContent;
import org.bouncycastle.asn1.cmp.RevReqContent;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.crmf.CertReqMsg;
import org.bouncycastle.asn1.crmf.CertTemplateBuilder;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.CertificateConfirmationContent;
import org.bouncycastle.cert.cmp.CertificateConfirmationContentBuilder;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CRMFException;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpBodies;
import org.keyarc.protocol.cmp.CmpHeaders;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.CmpProtectionException;
import org.keyarc.protocol.cmp.MacKind;
import org.keyarc.protocol.cmp.ResponderCertificate;

/**
 * The CMP enrollment client (used by {@code keyarc enroll}, the admin commands, the token agent and the
 * benches): builds requests with Bouncy Castle, protects them, sends them over a {@link CmpTransport},
 * checks the answer's protection, transaction id and nonce, confirms certificates and polls.
 */
public final class CmpClient implements AutoCloseable {
  private final CmpTransport transport;
  private final Protection protection;
  private final X509CertificateHolder trustedCa;
  private final Duration timeout;

  /**
   * @param trustedCa the CA certificate; signed answers must be signed by a responder certificate it issued
   *     (id-kp-cmcCA, valid now). May be null with MAC protection (the answer is then checked with the same
   *     secret, its parameters bounded as the node bounds them)
   */
  public CmpClient(CmpTransport transport, Protection protection, X509CertificateHolder trustedCa) {
    this.transport = transport;
    this.protection = protection;
    this.trustedCa = trustedCa;
    this.timeout = Duration.ofSeconds(60);
  }

  /** A certificate the CA issued. */
  public record Enrolled(X509CertificateHolder cert, List<X509CertificateHolder> caPubs, boolean confirmed,
      org.bouncycastle.asn1.pkcs.PrivateKeyInfo generatedKey) {
    /** A certificate for the client's own key. */
    public Enrolled(X509CertificateHolder cert, List<X509CertificateHolder> caPubs, boolean confirmed) {
      this(cert, caPubs, confirmed, null);
    }

    @Override
    public String toString() {
      return "Enrolled[" + cert.getSubject() + ", serial " + cert.getSerialNumber().toString(16)
          + (generatedKey == null ? "" : ", with the key the CA generated (not shown)") + "]";
    }
  }

  /** A request the CA holds for approval: poll later with {@link #poll}. */
  public record Pending(byte[] transactionId, int certReqId, int bodyType, int checkAfterSeconds) {
    public String transactionHex() {
      return java.util.HexFormat.of().formatHex(transactionId);
    }
  }

  /** The result of a request: issued or pending. */
  public record Result(Enrolled enrolled, Pending pending) {}

  /**
   * ir, cr or kur with a CRMF request. {@code popSigner} signs the proof of possession with the new key.
   * {@code template} may be null (the CA picks: the secret's template, or its default).
   */
  public Result enroll(int bodyType, X500Name subject, SubjectPublicKeyInfo publicKey, ContentSigner popSigner,
      String template, boolean implicitConfirm, Extensions extensions) throws CmpClientException {
    return enroll(bodyType, subject, publicKey, popSigner, template, implicitConfirm, extensions, null);
  }

  /**
   * Like {@link #enroll(int, X500Name, SubjectPublicKeyInfo, ContentSigner, String, boolean, Extensions)},
   * with the private key for archival in {@code PKIArchiveOptions.encryptedPrivKey} (see
   * {@link ArchiveEncryption}); null sends no archive options.
   */
  public Result enroll(int bodyType, X500Name subject, SubjectPublicKeyInfo publicKey, ContentSigner popSigner,
      String template, boolean implicitConfirm, Extensions extensions,
      org.bouncycastle.asn1.crmf.EncryptedKey archive) throws CmpClientException {
    if (bodyType != PKIBody.TYPE_INIT_REQ && bodyType != PKIBody.TYPE_CERT_REQ
        && bodyType != PKIBody.TYPE_KEY_UPDATE_REQ) {
      throw new IllegalArgumentException("body type " + bodyType + " is not ir, cr or kur");
    }
    CertificateRequestMessageBuilder b = new CertificateRequestMessageBuilder(BigInteger.ZERO)
        .setSubject(subject).setPublicKey(publicKey).setProofOfPossessionSigningKeySigner(popSigner);
    if (archive != null) {
      b.addControl(new org.bouncycastle.cert.crmf.PKIArchiveControl(
          new org.bouncycastle.asn1.crmf.PKIArchiveOptions(archive)));
    }
    if (extensions != null) {
      for (ASN1ObjectIdentifier oid : extensions.getExtensionOIDs()) {
        Extension e = extensions.getExtension(oid);
        try {
          b.addExtension(oid, e.isCritical(), e.getParsedValue());
        } catch (org.bouncycastle.cert.CertIOException ex) {
          throw new CmpClientException(ErrorCode.BAD_INPUT, "extension " + oid + " cannot be encoded");
        }
      }
    }
    CertReqMessages msgs;
    try {
      msgs = new CertReqMessages(b.build().toASN1Structure());
    } catch (CRMFException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot build the certificate request: " + e.getMessage(), e);
    }
    return certRequest(new PKIBody(bodyType, msgs), bodyType, template, implicitConfirm);
  }

  /**
   * ir or cr for a key the CA generates (central key generation, RFC 9483 4.1.6): no public key ({@code keyAlg} null)
   * or only its algorithm ({@code keyAlg} with an empty key: rsaEncryption, or id-ecPublicKey with a named curve), no
   * proof of possession. The answer's private key is opened (with this client's secret or signing key) and checked
   * against the certificate before the certificate is confirmed: {@link Enrolled#generatedKey()}.
   */
  public Result enrollCentral(int bodyType, X500Name subject, org.bouncycastle.asn1.x509.AlgorithmIdentifier keyAlg,
      String template, boolean implicitConfirm) throws CmpClientException {
    if (bodyType != PKIBody.TYPE_INIT_REQ && bodyType != PKIBody.TYPE_CERT_REQ) {
      throw new IllegalArgumentException("central key generation is for ir and cr");
    }
    org.bouncycastle.asn1.crmf.CertTemplateBuilder t = new org.bouncycastle.asn1.crmf.CertTemplateBuilder()
        .setSubject(subject);
    if (keyAlg != null) {
      t.setPublicKey(new SubjectPublicKeyInfo(keyAlg, new byte[0]));
    }
    org.bouncycastle.asn1.crmf.CertRequest req = new org.bouncycastle.asn1.crmf.CertRequest(new ASN1Integer(0),
        t.build(), null);
    CertReqMessages msgs = new CertReqMessages(new CertReqMsg(req, null, null));
    return certRequest(new PKIBody(bodyType, msgs), bodyType, template, implicitConfirm);
  }

  /**
   * ir or cr for a key that never signs (RFC 4210 indirect proof of possession, POPOPrivKey subsequentMessage
   * encrCert): the CA returns the certificate encrypted to {@code publicKey}, {@code opener} (the key's holder: a card,
   * an HSM) opens it, and the certConf naming its hash is the proof. {@code regInfo} may be null. Never implicitly
   * confirmed. A request held for approval is collected with {@link #poll(Pending, Duration, Consumer,
   * org.bouncycastle.cms.Recipient)} and the same opener.
   */
  public Result enrollByDecryption(int bodyType, X500Name subject, SubjectPublicKeyInfo publicKey, String template,
      org.bouncycastle.asn1.crmf.AttributeTypeAndValue[] regInfo, org.bouncycastle.cms.Recipient opener)
      throws CmpClientException {
    if (bodyType != PKIBody.TYPE_INIT_REQ && bodyType != PKIBody.TYPE_CERT_REQ) {
      throw new IllegalArgumentException("encrCert is for ir and cr");
    }
    CertificateRequestMessageBuilder b = new CertificateRequestMessageBuilder(BigInteger.ZERO)
        .setSubject(subject).setPublicKey(publicKey)
        .setProofOfPossessionSubsequentMessage(org.bouncycastle.asn1.crmf.SubsequentMessage.encrCert);
    if (regInfo != null) {
      b.setRegInfo(regInfo);
    }
    CertReqMessages msgs;
    try {
      msgs = new CertReqMessages(b.build().toASN1Structure());
    } catch (CRMFException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot build the certificate request: " + e.getMessage(), e);
    }
    byte[] tx = CmpHeaders.nonce();
    Exchange ex = exchange(tx, null, new PKIBody(bodyType, msgs), false, template);
    return certResponse(ex, tx, bodyType, 0, opener);
  }

  /** p10cr: a PKCS#10 request. */
  public Result p10cr(PKCS10CertificationRequest csr, String template, boolean implicitConfirm)
      throws CmpClientException {
    return certRequest(new PKIBody(PKIBody.TYPE_P10_CERT_REQ, csr.toASN1Structure()), PKIBody.TYPE_P10_CERT_REQ,
        template, implicitConfirm);
  }

  private Result certRequest(PKIBody body, int bodyType, String template, boolean implicitConfirm)
      throws CmpClientException {
    byte[] tx = CmpHeaders.nonce();
    Exchange ex = exchange(tx, null, body, implicitConfirm, template);
    return certResponse(ex, tx, bodyType, 0, null);
  }

  /** Polls a pending request until it is decided or {@code wait} has passed (0 = ask once). */
  public Result poll(Pending p, Duration wait, Consumer<String> progress) throws CmpClientException {
    return poll(p, wait, progress, null);
  }

  /**
   * Like {@link #poll(Pending, Duration, Consumer)} for a request whose certificate comes back encrypted to its key
   * ({@link #enrollByDecryption}): {@code opener} opens it.
   */
  public Result poll(Pending p, Duration wait, Consumer<String> progress, org.bouncycastle.cms.Recipient opener)
      throws CmpClientException {
    long deadline = System.nanoTime() + wait.toNanos();
    byte[] recipNonce = null;
    while (true) {
      PKIBody body = new PKIBody(PKIBody.TYPE_POLL_REQ, new PollReqContent(BigInteger.valueOf(p.certReqId())));
      Exchange ex = exchange(p.transactionId(), recipNonce, body, false, null);
      recipNonce = ex.senderNonce;
      int type = ex.message.getBody().getType();
      if (type != PKIBody.TYPE_POLL_REP) {
        return certResponse(ex, p.transactionId(), p.bodyType(), 0, opener);
      }
      PollRepContent rep = PollRepContent.getInstance(ex.message.getBody().getContent());
      int after = rep.getCheckAfter(0).intValueExact();
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        return new Result(null, new Pending(p.transactionId(), p.certReqId(), p.bodyType(), after));
      }
      if (progress != null) {
        progress.accept("request still pending; asking again in " + after + " s");
      }
      sleep(Math.min(TimeUnit.SECONDS.toNanos(Math.max(1, after)), remaining));
    }
  }

  private Result certResponse(Exchange ex, byte[] tx, int bodyType, int certReqId,
      org.bouncycastle.cms.Recipient opener) throws CmpClientException {
    PKIBody body = ex.message.getBody();
    throwIfError(body);
    int expected = CmpBodies.responseType(bodyType);
    if (body.getType() != expected) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the node answered with body type " + body.getType()
          + ", expected " + expected);
    }
    CertRepMessage rep = CertRepMessage.getInstance(body.getContent());
    CertResponse resp = rep.getResponse()[0];
    PKIStatusInfo status = resp.getStatus();
    int s = status.getStatus().intValue();
    if (s == PKIStatus.WAITING) {
      return new Result(null, new Pending(tx, resp.getCertReqId().intValueExact(), bodyType, 0));
    }
    if (s != PKIStatus.GRANTED && s != PKIStatus.GRANTED_WITH_MODS) {
      throw refusal(status);
    }
    if (resp.getCertifiedKeyPair() == null) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the granted answer carries no certificate");
    }
    CMPCertificate cmpCert;
    if (resp.getCertifiedKeyPair().getCertOrEncCert().hasEncryptedCertificate()) {
      if (opener == null) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the node sent the certificate encrypted, and this "
            + "request has no key to open it");
      }
      try {
        cmpCert = new org.bouncycastle.cert.crmf.CertificateResponse(resp).getCertificate(opener);
      } catch (org.bouncycastle.cms.CMSException | RuntimeException e) {
        throw new CmpClientException(ErrorCode.BAD_POP, "the certificate came back encrypted to the key, and the key "
            + "could not open it: " + e.getMessage(), e);
      }
    } else {
      cmpCert = resp.getCertifiedKeyPair().getCertOrEncCert().getCertificate();
    }
    if (cmpCert == null || !cmpCert.isX509v3PKCert()) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the answer carries no plain X.509 certificate");
    }
    X509CertificateHolder cert = new X509CertificateHolder(cmpCert.getX509v3PKCert());
    org.bouncycastle.asn1.pkcs.PrivateKeyInfo generated = null;
    if (resp.getCertifiedKeyPair().getPrivateKey() != null) {
      org.bouncycastle.asn1.crmf.EncryptedKey ek = resp.getCertifiedKeyPair().getPrivateKey();
      if (!ek.isEncryptedValue()) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the generated key comes as EnvelopedData, which this "
            + "client does not open");
      }
      generated = CentralKeys.open(org.bouncycastle.asn1.crmf.EncryptedValue.getInstance(ek.getValue()),
          protection instanceof Protection.Mac m ? m.secret() : null,
          protection instanceof Protection.Signature sig ? sig.key() : null);
      if (!matches(generated, cert)) {
        throw new CmpClientException(ErrorCode.BAD_POP, "the key the CA returned does not belong to the certificate "
            + "it issued; the certificate is not confirmed");
      }
    }
    List<X509CertificateHolder> caPubs = new ArrayList<>();
    if (rep.getCaPubs() != null) {
      for (CMPCertificate c : rep.getCaPubs()) {
        caPubs.add(new X509CertificateHolder(c.getX509v3PKCert()));
      }
    }
    if (!CmpHeaders.implicitConfirm(ex.message.getHeader())) {
      CertificateConfirmationContent conf;
      try {
        conf = new CertificateConfirmationContentBuilder()
            .addAcceptedCertificate(cert, resp.getCertReqId().getValue())
            .build(new JcaDigestCalculatorProviderBuilder().build());
      } catch (CMPException | OperatorCreationException e) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "cannot build certConf: " + e.getMessage(), e);
      }
      Exchange ack = exchange(tx, ex.senderNonce, new PKIBody(PKIBody.TYPE_CERT_CONFIRM, conf.toASN1Structure()),
          false, null);
      throwIfError(ack.message.getBody());
      if (ack.message.getBody().getType() != PKIBody.TYPE_CONFIRM) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "certConf was answered with body type "
            + ack.message.getBody().getType() + ", not pkiConf");
      }
    }
    return new Result(new Enrolled(cert, caPubs, true, generated), null);
  }

  /** A signature with {@code key} verifies with the certificate's public key. */
  private static boolean matches(org.bouncycastle.asn1.pkcs.PrivateKeyInfo key, X509CertificateHolder cert) {
    try {
      return KeyMatch.matches(new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(key),
          new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo()));
    } catch (java.io.IOException | java.security.GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }


  /**
   * A protected ir/cr/kur with implicit confirmation, ready to send: for callers that keep many
   * requests in flight on one connection (the load generator, the pipelining test). Read the answer
   * with {@link #certificateOf}.
   */
  public byte[] prepareCertRequest(int bodyType, X500Name subject, SubjectPublicKeyInfo publicKey,
      ContentSigner popSigner, String template) throws CmpClientException {
    return prepareCertRequest(bodyType, subject, publicKey, popSigner, template, null);
  }

  /** Like {@link #prepareCertRequest(int, X500Name, SubjectPublicKeyInfo, ContentSigner, String)}, with archival. */
  public byte[] prepareCertRequest(int bodyType, X500Name subject, SubjectPublicKeyInfo publicKey,
      ContentSigner popSigner, String template, org.bouncycastle.asn1.crmf.EncryptedKey archive)
      throws CmpClientException {
    return prepareCertRequests(bodyType, subject, List.of(new CertRequestEntry(publicKey, popSigner, archive)),
        template);
  }

  /** One certificate asked for: its public key, the signer of its proof of possession, its archive or null. */
  public record CertRequestEntry(SubjectPublicKeyInfo publicKey, ContentSigner popSigner,
      org.bouncycastle.asn1.crmf.EncryptedKey archive) {}

  /**
   * Like {@link #prepareCertRequest}, for several certificates in one message (certReqId 0, 1, ...; the node takes
   * up to 64 when the message is signed): one protection and one answer for all. Read the answer with
   * {@link #certificatesOf}.
   */
  public byte[] prepareCertRequests(int bodyType, X500Name subject, List<CertRequestEntry> entries, String template)
      throws CmpClientException {
    CertReqMsg[] msgs = new CertReqMsg[entries.size()];
    try {
      for (int i = 0; i < msgs.length; i++) {
        CertRequestEntry e = entries.get(i);
        CertificateRequestMessageBuilder b = new CertificateRequestMessageBuilder(BigInteger.valueOf(i))
            .setSubject(subject).setPublicKey(e.publicKey()).setProofOfPossessionSigningKeySigner(e.popSigner());
        if (e.archive() != null) {
          b.addControl(new org.bouncycastle.cert.crmf.PKIArchiveControl(
              new org.bouncycastle.asn1.crmf.PKIArchiveOptions(e.archive())));
        }
        msgs[i] = b.build().toASN1Structure();
      }
    } catch (CRMFException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot build the request: " + e.getMessage(), e);
    }
    try {
      return build(null, null, null, new PKIBody(bodyType, new CertReqMessages(msgs)), true, template).getEncoded();
    } catch (IOException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot encode the request: " + e.getMessage(), e);
    }
  }

  /** The certificate in an answer to {@link #prepareCertRequest} (protection checked). */
  public X509CertificateHolder certificateOf(byte[] answer) throws CmpClientException {
    CertResult r = certificatesOf(answer).get(0);
    if (r.refusal() != null) {
      throw r.refusal();
    }
    return r.cert();
  }

  /** One CertResponse of an answer: the certificate, or why it was refused (or that it waits). */
  public record CertResult(BigInteger certReqId, X509CertificateHolder cert, CmpClientException refusal) {}

  /** Every CertResponse of an answer to {@link #prepareCertRequests}, in the answer's order (protection checked). */
  public List<CertResult> certificatesOf(byte[] answer) throws CmpClientException {
    PKIMessage msg;
    try {
      msg = PKIMessage.getInstance(answer);
    } catch (IllegalArgumentException e) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the answer is not a PKIMessage");
    }
    throwIfError(msg.getBody());
    verify(new ProtectedPKIMessage(new GeneralPKIMessage(msg)));
    List<CertResult> results = new ArrayList<>();
    for (CertResponse resp : CertRepMessage.getInstance(msg.getBody().getContent()).getResponse()) {
      BigInteger id = resp.getCertReqId().getValue();
      if (resp.getStatus().getStatus().intValue() > PKIStatus.GRANTED_WITH_MODS) {
        results.add(new CertResult(id, null, refusal(resp.getStatus())));
      } else {
        results.add(new CertResult(id, new X509CertificateHolder(resp.getCertifiedKeyPair().getCertOrEncCert()
            .getCertificate().getX509v3PKCert()), null));
      }
    }
    return results;
  }

  /**
   * The CA's current exchange certificate (genm id-it-caProtEncCert), checked: signed by the trusted CA,
   * valid now, with the Private Key Archival extended key usage.
   */
  public X509CertificateHolder exchangeCertificate() throws CmpClientException {
    if (trustedCa == null) {
      throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "archival needs the CA certificate to check the "
          + "exchange certificate against (use --ca-cert)");
    }
    List<InfoTypeAndValue> rep = genm(new InfoTypeAndValue(CMPObjectIdentifiers.it_caProtEncCert));
    if (rep.isEmpty()) {
      throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "the CA sent no exchange certificate");
    }
    X509CertificateHolder x = new X509CertificateHolder(CMPCertificate.getInstance(rep.get(0).getInfoValue())
        .getX509v3PKCert());
    try {
      if (!x.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER)
          .build(trustedCa))) {
        throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "the exchange certificate was not issued by "
            + trustedCa.getSubject());
      }
    } catch (org.bouncycastle.cert.CertException | OperatorCreationException | java.security.cert.CertificateException e) {
      throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "the exchange certificate cannot be checked: "
          + e.getMessage());
    }
    if (!x.isValidOn(new Date())) {
      throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "the exchange certificate is not valid now (until "
          + x.getNotAfter().toInstant() + ")");
    }
    Extension eku = x.getExtension(Extension.extendedKeyUsage);
    if (eku == null || !org.bouncycastle.asn1.x509.ExtendedKeyUsage.getInstance(eku.getParsedValue()).hasKeyPurposeId(
        org.bouncycastle.asn1.x509.KeyPurposeId.getInstance(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.5")))) {
      throw new CmpClientException(ErrorCode.WRONG_EXCHANGE_CERT, "the exchange certificate lacks the Private Key "
          + "Archival extended key usage");
    }
    return x;
  }

  /** rr: revokes a certificate of this CA. */
  public void revoke(X500Name issuer, BigInteger serial, int reason) throws CmpClientException {
    CertTemplateBuilder t = new CertTemplateBuilder().setIssuer(issuer).setSerialNumber(new ASN1Integer(serial));
    Extensions ext;
    try {
      ext = new Extensions(new Extension(Extension.reasonCode, false,
          new org.bouncycastle.asn1.DEROctetString(CRLReason.lookup(reason).getEncoded())));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    RevReqContent rr = new RevReqContent(new RevDetails(t.build(), ext));
    Exchange ex = exchange(CmpHeaders.nonce(), null, new PKIBody(PKIBody.TYPE_REVOCATION_REQ, rr), false, null);
    throwIfError(ex.message.getBody());
    if (ex.message.getBody().getType() != PKIBody.TYPE_REVOCATION_REP) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "rr was answered with body type "
          + ex.message.getBody().getType());
    }
    PKIStatusInfo st = RevRepContent.getInstance(ex.message.getBody().getContent()).getStatus()[0];
    if (st.getStatus().intValue() > PKIStatus.GRANTED_WITH_MODS) {
      throw refusal(st);
    }
  }

  /** genm: asks for the given infoTypes; returns the genp's values. */
  public List<InfoTypeAndValue> genm(InfoTypeAndValue... asks) throws CmpClientException {
    Exchange ex = exchange(CmpHeaders.nonce(), null, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(asks)), false,
        null);
    throwIfError(ex.message.getBody());
    if (ex.message.getBody().getType() != PKIBody.TYPE_GEN_REP) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "genm was answered with body type "
          + ex.message.getBody().getType());
    }
    return Arrays.asList(GenRepContent.getInstance(ex.message.getBody().getContent()).toInfoTypeAndValueArray());
  }

  /** An administrative request (JSON) in a signature-protected genm; returns the JSON answer. */
  public String admin(String jsonRequest) throws CmpClientException {
    List<InfoTypeAndValue> rep = genm(new InfoTypeAndValue(KeyarcCmp.ADMIN, new DERUTF8String(jsonRequest)));
    for (InfoTypeAndValue i : rep) {
      if (i.getInfoType().equals(KeyarcCmp.ADMIN)) {
        return DERUTF8String.getInstance(i.getInfoValue()).getString();
      }
    }
    throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the node's answer holds no administrative result");
  }

  // ------------------------------------------------------------------ one round trip

  /** A verified answer and its sender nonce. */
  private record Exchange(ProtectedPKIMessage message, byte[] senderNonce) {}

  private Exchange exchange(byte[] tx, byte[] recipNonce, PKIBody body, boolean implicitConfirm, String template)
      throws CmpClientException {
    byte[] nonce = CmpHeaders.nonce();
    PKIMessage request = build(tx, nonce, recipNonce, body, implicitConfirm, template);
    byte[] answer;
    try {
      answer = transport.send(request.getEncoded()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CmpClientException c) {
        throw c;
      }
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, transport.endpoint() + ": " + e.getCause().getMessage(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, transport.endpoint() + " did not answer within "
          + timeout.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "interrupted");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    PKIMessage msg;
    try {
      msg = PKIMessage.getInstance(answer);
    } catch (IllegalArgumentException e) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, transport.endpoint() + " sent an answer that is not a "
          + "PKIMessage");
    }
    PKIHeader h = msg.getHeader();
    if (msg.getBody().getType() == PKIBody.TYPE_ERROR && msg.getProtection() == null) {
      // an unprotected error (the node could not even read the request): report it, trust nothing else
      throwIfError(msg.getBody());
    }
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(msg));
    verify(p);
    byte[] answerTx = CmpHeaders.transactionId(h);
    if (answerTx == null || !Arrays.equals(answerTx, tx)) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the answer belongs to another transaction");
    }
    byte[] echoed = CmpHeaders.recipNonce(h);
    if (echoed == null || !Arrays.equals(echoed, nonce)) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the answer does not echo this request's nonce");
    }
    return new Exchange(p, CmpHeaders.senderNonce(h));
  }

  /**
   * A request: transaction id and nonce null for fresh ones; with implicitConfirm and certProfile
   * {@code template} (null: none) in generalInfo when protected.
   */
  private PKIMessage build(byte[] tx, byte[] nonce, byte[] recipNonce, PKIBody body, boolean implicitConfirm,
      String template) throws CmpClientException {
    GeneralName sender = protection instanceof Protection.Signature s ? new GeneralName(s.cert().getSubject())
        : CmpHeaders.noName();
    GeneralName recipient = trustedCa != null ? new GeneralName(trustedCa.getSubject()) : CmpHeaders.noName();
    ProtectedPKIMessageBuilder b = CmpHeaders.request(sender, recipient, tx, nonce, recipNonce).setBody(body);
    if (implicitConfirm) {
      CmpHeaders.addImplicitConfirm(b);
    }
    if (template != null) {
      CmpHeaders.addCertProfile(b, template);
    }
    try {
      if (protection instanceof Protection.Mac m) {
        b.setSenderKID(m.reference().getBytes(StandardCharsets.UTF_8));
        return b.build(macCalculator(m)).toASN1Structure();
      }
      if (protection instanceof Protection.Signature s) {
        b.addCMPCertificate(s.cert());
        b.setSenderKID(subjectKeyId(s.cert()));
        return b.build(signer(s)).toASN1Structure();
      }
      // unprotected: BC's builder always protects, so the header is assembled without it (and, as ever,
      // without generalInfo)
      return new PKIMessage(CmpHeaders.unprotectedRequest(sender, recipient, tx, nonce, recipNonce).build(), body);
    } catch (CMPException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot protect the message: " + e.getMessage(), e);
    }
  }

  private static byte[] subjectKeyId(X509CertificateHolder cert) {
    Extension e = cert.getExtension(Extension.subjectKeyIdentifier);
    return e == null ? null : org.bouncycastle.asn1.x509.SubjectKeyIdentifier.getInstance(e.getParsedValue())
        .getKeyIdentifier();
  }

  private static MacCalculator macCalculator(Protection.Mac m) throws CmpClientException {
    try {
      return CmpMac.calculator(m.pbmac1() ? MacKind.PBMAC1 : MacKind.PBM, m.secret());
    } catch (CmpProtectionException e) {
      throw new CmpClientException(e.code(), e.getMessage(), e.getCause());
    }
  }

  private static ContentSigner signer(Protection.Signature s) throws CmpClientException {
    String alg = s.key().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    try {
      JcaContentSignerBuilder b = new JcaContentSignerBuilder(alg);
      if (s.provider() != null) {
        b.setProvider(s.provider());
      }
      return b.build(s.key());
    } catch (OperatorCreationException e) {
      throw new CmpClientException(ErrorCode.BAD_INPUT, "cannot sign with the given key: " + e.getMessage(), e);
    }
  }

  private void verify(ProtectedPKIMessage p) throws CmpClientException {
    if (p.toASN1Structure().getHeader().getProtectionAlg() == null || p.toASN1Structure().getProtection() == null) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the answer is not protected");
    }
    try {
      MacKind kind = MacKind.of(p.getProtectionAlgorithm().getAlgorithm()).orElse(null);
      if (kind != null) {
        if (!(protection instanceof Protection.Mac m)) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the node answered with a MAC, but this "
              + "request was not MAC-protected");
        }
        // the same bounds as the node's, before any key derivation: a forger picking keyLength 1 gets nowhere
        CmpMac.checkParameters(p.toASN1Structure());
        if (!p.verify(CmpMac.verifier(kind), m.secret())) {
          throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the answer's MAC is wrong: it did not come "
              + "from a CA that knows this secret");
        }
        return;
      }
      if (trustedCa == null) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the answer is signed, and no CA certificate was "
            + "given to check it (use --ca-cert)");
      }
      X509CertificateHolder[] certs = p.getCertificates();
      if (certs == null || certs.length == 0) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the signed answer carries no signer certificate "
            + "in extraCerts");
      }
      if (!p.verify(responderVerifier(certs[0]))) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the answer's signature does not verify with the "
            + "CA's responder certificate " + certs[0].getSubject());
      }
    } catch (CmpProtectionException e) {
      throw new CmpClientException(e.code(), e.getMessage(), e);
    } catch (CMPException | OperatorCreationException | java.security.cert.CertificateException e) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "cannot check the answer's protection: "
          + e.getMessage(), e);
    }
  }

  /** The responder certificate last checked and the verifier over its key. */
  private record Responder(X509CertificateHolder cert, org.bouncycastle.operator.ContentVerifierProvider verifier) {}

  private volatile Responder responder;

  /**
   * The verifier for answers signed with {@code cert}, the node's CMP responder certificate: it must chain to
   * the trusted CA certificate, carry id-kp-cmcCA and be valid now ({@link ResponderCertificate}). The CA key
   * itself never signs answers, so the CA certificate is not accepted as signer. Checked once per certificate.
   */
  private org.bouncycastle.operator.ContentVerifierProvider responderVerifier(X509CertificateHolder cert)
      throws CmpProtectionException, OperatorCreationException, java.security.cert.CertificateException {
    Responder known = responder;
    if (known != null && known.cert().equals(cert) && cert.isValidOn(new Date())) {
      return known.verifier();
    }
    ResponderCertificate.check(cert, trustedCa, new Date());
    Responder r = new Responder(cert, new JcaContentVerifierProviderBuilder().setProvider(
        org.keyarc.protocol.Bc.PROVIDER).build(cert));
    responder = r;
    return r.verifier();
  }

  private static void throwIfError(PKIBody body) throws CmpClientException {
    if (body.getType() == PKIBody.TYPE_ERROR) {
      throw refusal(ErrorMsgContent.getInstance(body.getContent()).getPKIStatusInfo());
    }
  }

  /** The exception for a refusing PKIStatusInfo: keyarc's code when the text carries one. */
  public static Refusal refusal(PKIStatusInfo status) {
    String text = KeyarcCmp.text(status);
    ErrorCode code = KeyarcCmp.codeOf(text);
    if (code == null) {
      code = ErrorCode.BAD_REQUEST;
      org.bouncycastle.asn1.ASN1BitString fi = status.getFailInfo();
      if (fi != null) {
        for (ErrorCode c : ErrorCode.values()) {
          if (c.failureInfo() != 0 && fi.intValue() == c.failureInfo()) {
            code = c;
            break;
          }
        }
      }
    }
    String msg = KeyarcCmp.messageOf(text);
    return new Refusal(code, msg.isEmpty() ? "the CA refused the request (" + code.summary() + ")" : msg);
  }

  /**
   * The node's own answer refusing the request (an error or a rejected status), as opposed to a failure to reach
   * it or to trust its answer: after a refusal the caller knows the node keeps nothing for it.
   */
  public static final class Refusal extends CmpClientException {
    private static final long serialVersionUID = 1L;

    Refusal(ErrorCode code, String message) {
      super(code, message);
    }
  }

  private static void sleep(long nanos) throws CmpClientException {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "interrupted while polling");
    }
  }

  /** The transport (the load generator sends prepared requests through it directly). */
  public CmpTransport transport() {
    return transport;
  }

  @Override
  public void close() {
    transport.close();
  }
}
