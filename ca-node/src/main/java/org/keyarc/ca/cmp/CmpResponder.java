package org.keyarc.ca.cmp;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertConfirmContent;
import org.bouncycastle.asn1.cmp.CertOrEncCert;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.CertifiedKeyPair;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.cmp.PollRepContent;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.cmp.RevDetails;
import org.bouncycastle.asn1.cmp.RevRepContentBuilder;
import org.bouncycastle.asn1.cmp.RevReqContent;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.crmf.CertReqMsg;
import org.bouncycastle.asn1.crmf.CertTemplate;
import org.bouncycastle.asn1.crmf.ProofOfPossession;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.CertificateConfirmationContent;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CRMFException;
import org.bouncycastle.cert.crmf.CertificateRequestMessage;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.PBEMacCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorProviderBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Enrollment;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.issue.PollResult;
import org.keyarc.ca.issue.RequestPolicy;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.Template;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CMP server logic, the same for both transports: one DER PKIMessage in, one DER PKIMessage out.
 * It never throws: anything wrong becomes a CMP error message with the keyarc code in its text and
 * the matching PKIFailureInfo. Answers to MAC-protected requests are MAC-protected with the same
 * secret; all other answers are signed with the CA key.
 */
public final class CmpResponder {
  private static final Logger LOG = LoggerFactory.getLogger(CmpResponder.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * PBM / PBKDF2 iterations for the MACs this side computes. keyarc's one-time secrets are 128 random
   * bits, so iterations add no strength; 1,000 is the floor RFC 9481 recommends.
   */
  static final int MAC_ITERATIONS = 1_000;
  /** Upper bound of PBM / PBKDF2 iterations a client may ask for (each costs the node CPU). */
  static final int MAX_ITERATIONS = 100_000;
  static final int MIN_SALT = 8;

  private final IdentityService identities;
  private final SecretService secrets;
  private final Enrollment enrollment;
  private final RequestPolicy policy;
  private final RevocationService revocation;
  private final CrlService crls;
  private final CaKeyring keys;
  private final AdminApi admin;
  private final Clock clock;
  private final long messageTimeSkewSeconds;
  private final MeterRegistry metrics;

  /** {@code metrics} may be null; {@code messageTimeSkewSeconds} bounds a request's messageTime. */
  public CmpResponder(IdentityService identities, SecretService secrets, Enrollment enrollment, RequestPolicy policy,
      RevocationService revocation, CrlService crls, CaKeyring keys, AdminApi admin, Clock clock,
      long messageTimeSkewSeconds, MeterRegistry metrics) {
    this.identities = identities;
    this.secrets = secrets;
    this.enrollment = enrollment;
    this.policy = policy;
    this.revocation = revocation;
    this.crls = crls;
    this.keys = keys;
    this.admin = admin;
    this.clock = clock;
    this.messageTimeSkewSeconds = messageTimeSkewSeconds;
    this.metrics = metrics;
  }

  /** The request context: parsed header fields and the sender's identity once established. */
  private static final class Ctx {
    PKIHeader header;
    Identity identity;
    SecretService.SecretGrant secret;
    boolean pbmac1;
    String transactionId = "";
    BigInteger signerSerial;
    boolean implicitConfirmGranted;
  }

  /** Answers one request. {@code tlsClient} is the TLS client certificate, if any. */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient) {
    long start = System.nanoTime();
    Ctx ctx = new Ctx();
    String body = "unknown";
    String outcome = "error";
    try {
      PKIMessage msg;
      try {
        msg = PKIMessage.getInstance(der);
        msg.getBody().getType(); // forces parsing of the body
      } catch (RuntimeException e) {
        throw new CaException(ErrorCode.BAD_MESSAGE, "the request is not a DER PKIMessage");
      }
      ctx.header = msg.getHeader();
      if (ctx.header.getTransactionID() != null) {
        ctx.transactionId = HexFormat.of().formatHex(ctx.header.getTransactionID().getOctets());
      }
      body = bodyName(msg.getBody().getType());
      PKIMessage answer = dispatch(msg, ctx, tlsClient);
      outcome = answer.getBody().getType() == PKIBody.TYPE_ERROR ? "refused" : "ok";
      return answer.getEncoded();
    } catch (CaException e) {
      outcome = "refused";
      LOG.info("{} refused: {} ({})", body, e.getMessage(), e.code());
      return errorAnswer(ctx, e.code(), e.getMessage());
    } catch (IllegalArgumentException | ClassCastException | IllegalStateException e) {
      // Bouncy Castle's getInstance() methods refuse malformed structures inside a well-formed PKIMessage
      outcome = "refused";
      LOG.info("{} refused: malformed content ({})", body, e.getMessage());
      return errorAnswer(ctx, ErrorCode.BAD_MESSAGE, "the " + body + " body is malformed: "
          + Texts.printable(e.getMessage()));
    } catch (RuntimeException | IOException e) {
      LOG.error("{} failed", body, e);
      return errorAnswer(ctx, ErrorCode.INTERNAL, "the CA could not process the request: "
          + e.getClass().getSimpleName());
    } finally {
      if (metrics != null) {
        Timer.builder("keyarc.cmp.requests").tag("body", body).tag("outcome", outcome)
            .description("CMP requests answered").register(metrics)
            .record(Duration.ofNanos(System.nanoTime() - start));
      }
    }
  }

  private PKIMessage dispatch(PKIMessage msg, Ctx ctx, X509CertificateHolder tlsClient) throws CaException {
    PKIHeader h = msg.getHeader();
    int pvno = h.getPvno().intValueExact();
    if (pvno != PKIHeader.CMP_2000 && pvno != 3) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "CMP version " + pvno + " is not supported (2 or 3)");
    }
    if (h.getTransactionID() == null || h.getTransactionID().getOctets().length < 8) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the request has no transactionID of at least 8 bytes");
    }
    if (h.getMessageTime() != null) {
      try {
        Instant t = h.getMessageTime().getDate().toInstant();
        long skew = Math.abs(Duration.between(t, clock.instant()).toSeconds());
        if (skew > messageTimeSkewSeconds) {
          throw new CaException(ErrorCode.BAD_TIME, "the message time is " + skew + " s away from the CA's clock");
        }
      } catch (java.text.ParseException e) {
        throw new CaException(ErrorCode.BAD_MESSAGE, "the message time cannot be read");
      }
    }
    int type = msg.getBody().getType();
    authenticate(msg, ctx, type, tlsClient);
    PKIBody answer = switch (type) {
      case PKIBody.TYPE_INIT_REQ, PKIBody.TYPE_CERT_REQ, PKIBody.TYPE_KEY_UPDATE_REQ -> certRequest(msg, ctx, type);
      case PKIBody.TYPE_P10_CERT_REQ -> p10(msg, ctx);
      case PKIBody.TYPE_CERT_CONFIRM -> certConf(msg, ctx);
      case PKIBody.TYPE_POLL_REQ -> pollReq(msg, ctx);
      case PKIBody.TYPE_REVOCATION_REQ -> revocation(msg, ctx);
      case PKIBody.TYPE_GEN_MSG -> genm(msg, ctx);
      default -> throw new CaException(ErrorCode.UNSUPPORTED_MESSAGE, "CMP body type " + bodyName(type)
          + " is not supported by this CA");
    };
    return protect(ctx, answer, ctx.implicitConfirmGranted);
  }

  // ------------------------------------------------------------------ protection

  private void authenticate(PKIMessage msg, Ctx ctx, int type, X509CertificateHolder tlsClient) throws CaException {
    if (msg.getHeader().getProtectionAlg() == null || msg.getProtection() == null) {
      if (type == PKIBody.TYPE_GEN_MSG && onlyPublicInfo(msg)) {
        ctx.identity = tlsClient != null ? identities.identify(tlsClient) : null;
        return;
      }
      if (tlsClient != null) {
        ctx.identity = identities.identify(tlsClient);
        ctx.signerSerial = tlsClient.getSerialNumber();
        return;
      }
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "the request is not protected; protect it with a one-time "
          + "secret (MAC) or a certificate of this CA (signature)");
    }
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(msg));
    if (KeyarcCmp.isPasswordBasedMac(msg.getHeader().getProtectionAlg().getAlgorithm())) {
      byte[] kid = msg.getHeader().getSenderKID() == null ? null : msg.getHeader().getSenderKID().getOctets();
      if (kid == null) {
        throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "a MAC-protected request must carry the secret's "
            + "reference number in senderKID");
      }
      String reference = new String(kid, StandardCharsets.UTF_8);
      boolean continuing = type == PKIBody.TYPE_CERT_CONFIRM || type == PKIBody.TYPE_POLL_REQ;
      ctx.secret = secrets.secret(reference, continuing);
      ctx.pbmac1 = checkMacParameters(msg);
      PBEMacCalculatorProvider provider = ctx.pbmac1
          ? new JcePBMac1CalculatorProviderBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER).build()
          : new PKMACBuilder(new JcePKMACValuesCalculator());
      boolean ok;
      try {
        ok = p.verify(provider, ctx.secret.secret());
      } catch (CMPException | RuntimeException e) {
        ok = false;
      }
      if (!ok) {
        ctx.secret = null;
        throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC does not match the one-time secret of reference "
            + reference);
      }
      ctx.identity = new Identity(Identity.Kind.SECRET, reference, java.util.Set.of());
      return;
    }
    X509CertificateHolder[] certs = p.getCertificates();
    if (certs == null || certs.length == 0) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "a signature-protected request must carry its signer "
          + "certificate first in extraCerts");
    }
    IdentityService.Signer signer = identities.checkSigner(certs[0]);
    boolean ok;
    try {
      ok = p.verify(signer.verifier());
    } catch (CMPException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the signature does not verify with the signer certificate "
          + Digests.hex(certs[0].getSerialNumber()));
    }
    ctx.identity = signer.identity();
    ctx.signerSerial = certs[0].getSerialNumber();
  }

  /** Checks the PBM / PBMAC1 parameters a client chose; returns true for PBMAC1. */
  private static boolean checkMacParameters(PKIMessage msg) throws CaException {
    ASN1ObjectIdentifier alg = msg.getHeader().getProtectionAlg().getAlgorithm();
    ASN1Encodable params = msg.getHeader().getProtectionAlg().getParameters();
    try {
      if (alg.equals(CMPObjectIdentifiers.passwordBasedMac)) {
        PBMParameter pbm = PBMParameter.getInstance(params);
        checkSaltAndCount(pbm.getSalt().getOctets().length, pbm.getIterationCount().getValue());
        return false;
      }
      if (alg.equals(PKCSObjectIdentifiers.id_PBMAC1)) {
        PBMAC1Params pb = PBMAC1Params.getInstance(params);
        PBKDF2Params kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
        checkSaltAndCount(kdf.getSalt().length, kdf.getIterationCount());
        return true;
      }
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the MAC parameters cannot be read");
    }
    throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "MAC algorithm " + alg + " is not supported (PBM or PBMAC1)");
  }

  private static void checkSaltAndCount(int saltLength, BigInteger count) throws CaException {
    if (saltLength < MIN_SALT) {
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC salt is " + saltLength + " bytes; at least "
          + MIN_SALT + " are required");
    }
    if (count.signum() <= 0 || count.compareTo(BigInteger.valueOf(MAX_ITERATIONS)) > 0) {
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC iteration count " + count + " is outside 1.."
          + MAX_ITERATIONS);
    }
  }

  private static boolean onlyPublicInfo(PKIMessage msg) {
    for (InfoTypeAndValue i : GenMsgContent.getInstance(msg.getBody().getContent()).toInfoTypeAndValueArray()) {
      if (i.getInfoType().equals(KeyarcCmp.ADMIN)) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------ certificate requests

  /**
   * At most this many CertReqMsg in one ir/cr. Several in one message share one protection check and one
   * answer signature: the high-volume client's way to spend less of the node per certificate.
   */
  public static final int MAX_CERT_REQUESTS = 64;

  private PKIBody certRequest(PKIMessage msg, Ctx ctx, int type) throws CaException {
    CertReqMsg[] all = CertReqMessages.getInstance(msg.getBody().getContent()).toCertReqMsgArray();
    if (all.length == 0) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request holds no CertReqMsg");
    }
    if (all.length == 1) {
      CertificateRequestMessage req = new CertificateRequestMessage(all[0]);
      Outcome out = enrollment.enroll(enrollRequest(msg, ctx, type, req));
      return certRep(ctx, repType(type), req.getCertReqId(), out);
    }
    if (ctx.secret != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a one-time secret is for one certificate: send one CertReqMsg, "
          + "not " + all.length);
    }
    if (type == PKIBody.TYPE_KEY_UPDATE_REQ) {
      throw new CaException(ErrorCode.BAD_REQUEST, "kur updates one certificate: send one CertReqMsg, not "
          + all.length);
    }
    if (all.length > MAX_CERT_REQUESTS) {
      throw new CaException(ErrorCode.BAD_REQUEST, "at most " + MAX_CERT_REQUESTS + " CertReqMsg in one message, not "
          + all.length);
    }
    Set<BigInteger> ids = new HashSet<>();
    for (CertReqMsg m : all) {
      if (!ids.add(m.getCertReq().getCertReqId().getValue())) {
        throw new CaException(ErrorCode.BAD_REQUEST, "certReqId " + m.getCertReq().getCertReqId().getValue()
            + " is used twice in the message");
      }
    }
    // every entry is checked before any is issued: a refused entry gets its own rejection, and the
    // others are issued each in its own transaction
    EnrollRequest[] checked = new EnrollRequest[all.length];
    CertResponse[] responses = new CertResponse[all.length];
    for (int i = 0; i < all.length; i++) {
      try {
        checked[i] = enrollRequest(msg, ctx, type, new CertificateRequestMessage(all[i]));
      } catch (CaException e) {
        responses[i] = refused(all[i], e.code(), e.getMessage());
      } catch (IllegalArgumentException | IllegalStateException e) {
        responses[i] = refused(all[i], ErrorCode.BAD_MESSAGE, "the CertReqMsg is malformed: "
            + Texts.printable(e.getMessage()));
      }
    }
    boolean anyIssued = false;
    boolean allConfirmed = true;
    for (int i = 0; i < all.length; i++) {
      if (checked[i] == null) {
        continue;
      }
      try {
        Outcome out = enrollment.enroll(checked[i]);
        responses[i] = certResponse(all[i].getCertReq().getCertReqId(), out);
        if (out instanceof Outcome.Issued issued) {
          anyIssued = true;
          allConfirmed &= issued.confirmed();
        }
      } catch (CaException e) {
        responses[i] = refused(all[i], e.code(), e.getMessage());
      }
    }
    ctx.implicitConfirmGranted = anyIssued && allConfirmed;
    CMPCertificate[] caPubs = anyIssued ? new CMPCertificate[] {new CMPCertificate(keys.caCert()
        .toASN1Structure())} : null;
    return new PKIBody(repType(type), new CertRepMessage(caPubs, responses));
  }

  private static CertResponse refused(CertReqMsg m, ErrorCode code, String message) {
    LOG.info("CertReqMsg {} refused: {} ({})", m.getCertReq().getCertReqId().getValue(), message, code);
    return new CertResponse(m.getCertReq().getCertReqId(), KeyarcCmp.rejection(code, message));
  }

  /** One CertReqMsg checked (proof of possession, template, subject) and ready for {@link CaService#enroll}. */
  private EnrollRequest enrollRequest(PKIMessage msg, Ctx ctx, int type, CertificateRequestMessage req)
      throws CaException {
    CertTemplate tpl = req.getCertTemplate();
    SubjectPublicKeyInfo spki = tpl.getPublicKey();
    if (spki == null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the certificate template has no public key");
    }
    checkPop(req, spki);
    X500Name subject = tpl.getSubject();
    Template template;
    if (type == PKIBody.TYPE_KEY_UPDATE_REQ) {
      template = policy.updateTemplate(ctx.identity, ctx.signerSerial);
      subject = new X500Name(ctx.identity.name());
    } else {
      template = chooseTemplate(msg, ctx);
      subject = chooseSubject(ctx, subject);
    }
    return new EnrollRequest(ctx.identity, new EnrollRequest.ClientRef(ctx.transactionId,
        req.getCertReqId().longValueExact(), bodyName(type)), template, subject, spki, tpl.getExtensions(),
        implicitConfirm(msg), ctx.secret == null ? null : ctx.secret.record().reference(), archiveOptions(req));
  }

  /** The encrypted private key of the request's PKIArchiveOptions control, or null when there is none. */
  private static org.bouncycastle.asn1.crmf.EncryptedKey archiveOptions(CertificateRequestMessage req)
      throws CaException {
    var oid = org.bouncycastle.asn1.crmf.CRMFObjectIdentifiers.id_regCtrl_pkiArchiveOptions;
    if (!req.hasControl(oid)) {
      return null;
    }
    org.bouncycastle.cert.crmf.PKIArchiveControl control = (org.bouncycastle.cert.crmf.PKIArchiveControl)
        req.getControl(oid);
    if (control.getArchiveType() != org.bouncycastle.cert.crmf.PKIArchiveControl.encryptedPrivKey) {
      throw new CaException(ErrorCode.ARCHIVE_FORM_REFUSED, "PKIArchiveOptions must carry encryptedPrivKey (the "
          + "key itself); keyGenParameters and archiveRemGenPrivKey are not supported");
    }
    return org.bouncycastle.asn1.crmf.EncryptedKey.getInstance(
        org.bouncycastle.asn1.crmf.PKIArchiveOptions.getInstance(control.getValue()).getValue());
  }

  private static void checkPop(CertificateRequestMessage req, SubjectPublicKeyInfo spki) throws CaException {
    if (!req.hasProofOfPossession()) {
      throw new CaException(ErrorCode.BAD_POP, "the request has no proof of possession");
    }
    if (req.getProofOfPossessionType() != ProofOfPossession.TYPE_SIGNING_KEY) {
      throw new CaException(ErrorCode.BAD_POP, "only signature proof of possession is accepted "
          + "(raVerified and encryption POP are not)");
    }
    boolean ok;
    try {
      ok = req.isValidSigningKeyPOP(new JcaContentVerifierProviderBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER)
          .build(spki));
    } catch (CRMFException | OperatorCreationException | IllegalStateException e) {
      ok = false;
    }
    if (!ok) {
      throw new CaException(ErrorCode.BAD_POP, "the proof of possession does not verify with the requested public key");
    }
  }

  private Template chooseTemplate(PKIMessage msg, Ctx ctx) throws CaException {
    return policy.template(ctx.secret, certProfile(msg));
  }

  private X500Name chooseSubject(Ctx ctx, X500Name requested) throws CaException {
    return policy.subject(ctx.identity, ctx.secret, requested);
  }

  private static String certProfile(PKIMessage msg) throws CaException {
    InfoTypeAndValue[] gi = msg.getHeader().getGeneralInfo();
    if (gi == null) {
      return null;
    }
    for (InfoTypeAndValue i : gi) {
      if (i.getInfoType().equals(CMPObjectIdentifiers.id_it_certProfile)) {
        try {
          ASN1Sequence s = ASN1Sequence.getInstance(i.getInfoValue());
          return DERUTF8String.getInstance(s.getObjectAt(0)).getString();
        } catch (RuntimeException e) {
          throw new CaException(ErrorCode.BAD_MESSAGE, "certProfile must be a SEQUENCE of UTF8String");
        }
      }
    }
    return null;
  }

  private static boolean implicitConfirm(PKIMessage msg) {
    InfoTypeAndValue[] gi = msg.getHeader().getGeneralInfo();
    if (gi != null) {
      for (InfoTypeAndValue i : gi) {
        if (i.getInfoType().equals(CMPObjectIdentifiers.it_implicitConfirm)) {
          return true;
        }
      }
    }
    return false;
  }

  private PKIBody p10(PKIMessage msg, Ctx ctx) throws CaException {
    PKCS10CertificationRequest csr;
    try {
      csr = new PKCS10CertificationRequest(org.bouncycastle.asn1.pkcs.CertificationRequest.getInstance(
          msg.getBody().getContent()));
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER)
          .build(csr.getSubjectPublicKeyInfo()))) {
        throw new CaException(ErrorCode.BAD_POP, "the PKCS#10 signature does not verify with its public key");
      }
    } catch (PKCSException | OperatorCreationException | RuntimeException e) {
      throw new CaException(ErrorCode.BAD_POP, "the PKCS#10 request cannot be verified");
    }
    Extensions ext = null;
    for (org.bouncycastle.asn1.pkcs.Attribute a : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      ext = Extensions.getInstance(a.getAttrValues().getObjectAt(0));
    }
    Template template = chooseTemplate(msg, ctx);
    X500Name subject = chooseSubject(ctx, csr.getSubject());
    Outcome out = enrollment.enroll(new EnrollRequest(ctx.identity, new EnrollRequest.ClientRef(ctx.transactionId, 0,
        "p10cr"), template, subject, csr.getSubjectPublicKeyInfo(), ext, implicitConfirm(msg),
        ctx.secret == null ? null : ctx.secret.record().reference()));
    return certRep(ctx, PKIBody.TYPE_CERT_REP, new ASN1Integer(0), out);
  }

  private PKIBody certRep(Ctx ctx, int repType, ASN1Integer certReqId, Outcome out) {
    if (out instanceof Outcome.Issued issued) {
      ctx.implicitConfirmGranted = issued.confirmed();
      return issuedBody(repType, certReqId, issued.cert());
    }
    return new PKIBody(repType, new CertRepMessage(null, new CertResponse[] {certResponse(certReqId, out)}));
  }

  /** The CertResponse for one outcome: the certificate, or "waiting" for a manager's approval. */
  private static CertResponse certResponse(ASN1Integer certReqId, Outcome out) {
    if (out instanceof Outcome.Pending p) {
      return new CertResponse(certReqId, new PKIStatusInfo(PKIStatus.waiting, new PKIFreeText("request "
          + p.requestId() + " waits for a certificate manager's approval; poll with pollReq")));
    }
    return granted(certReqId, ((Outcome.Issued) out).cert());
  }

  private static CertResponse granted(ASN1Integer certReqId, X509CertificateHolder cert) {
    return new CertResponse(certReqId, new PKIStatusInfo(PKIStatus.granted), new CertifiedKeyPair(
        new CertOrEncCert(new CMPCertificate(cert.toASN1Structure()))), null);
  }

  private PKIBody issuedBody(int repType, ASN1Integer certReqId, X509CertificateHolder cert) {
    CMPCertificate[] caPubs = {new CMPCertificate(keys.caCert().toASN1Structure())};
    return new PKIBody(repType, new CertRepMessage(caPubs, new CertResponse[] {granted(certReqId, cert)}));
  }

  private static int repType(int reqType) {
    return switch (reqType) {
      case PKIBody.TYPE_INIT_REQ -> PKIBody.TYPE_INIT_REP;
      case PKIBody.TYPE_KEY_UPDATE_REQ -> PKIBody.TYPE_KEY_UPDATE_REP;
      default -> PKIBody.TYPE_CERT_REP;
    };
  }

  // ------------------------------------------------------------------ certConf, pollReq, rr, genm

  private PKIBody certConf(PKIMessage msg, Ctx ctx) throws CaException {
    CertificateConfirmationContent conf = new CertificateConfirmationContent(
        CertConfirmContent.getInstance(msg.getBody().getContent()));
    enrollment.confirm(ctx.identity, ctx.transactionId, conf.getStatusMessages());
    return new PKIBody(PKIBody.TYPE_CONFIRM, DERNull.INSTANCE);
  }

  private PKIBody pollReq(PKIMessage msg, Ctx ctx) throws CaException {
    PollReqContent poll = PollReqContent.getInstance(msg.getBody().getContent());
    BigInteger[] ids = poll.getCertReqIdValues();
    if (ids.length != 1) {
      throw new CaException(ErrorCode.BAD_REQUEST, "poll one request per message");
    }
    PollResult r = enrollment.poll(ctx.identity, ctx.transactionId, ids[0].longValueExact());
    ASN1Integer id = new ASN1Integer(ids[0]);
    if (r instanceof PollResult.Waiting w) {
      return new PKIBody(PKIBody.TYPE_POLL_REP, new PollRepContent(id, new ASN1Integer(w.checkAfterSeconds()),
          new PKIFreeText("waiting for a certificate manager's approval")));
    }
    if (r instanceof PollResult.Denied d) {
      PKIStatusInfo denied = KeyarcCmp.rejection(ErrorCode.REQUEST_DENIED, "a certificate manager denied the "
          + "request: " + d.reason());
      return new PKIBody(repType(bodyType(d.form())), new CertRepMessage(null,
          new CertResponse[] {new CertResponse(id, denied)}));
    }
    PollResult.Issued i = (PollResult.Issued) r;
    return issuedBody(repType(bodyType(i.form())), id, i.cert());
  }

  private PKIBody revocation(PKIMessage msg, Ctx ctx) throws CaException {
    if (ctx.identity == null || ctx.identity.kind() != Identity.Kind.CERTIFICATE) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "rr must be signed with a certificate of this CA (the "
          + "certificate itself, or a certificate manager's)");
    }
    RevDetails[] details = RevReqContent.getInstance(msg.getBody().getContent()).toRevDetailsArray();
    RevRepContentBuilder rep = new RevRepContentBuilder();
    for (RevDetails d : details) {
      CertTemplate t = d.getCertDetails();
      if (t.getSerialNumber() == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "rr must name the certificate's serial number");
      }
      if (t.getIssuer() != null && !t.getIssuer().equals(keys.caName())) {
        throw new CaException(ErrorCode.NOT_FOUND, "this CA is " + keys.caName() + ", not " + t.getIssuer());
      }
      int reason = CRLReason.unspecified;
      Extensions ext = d.getCrlEntryDetails();
      if (ext != null && ext.getExtension(Extension.reasonCode) != null) {
        reason = CRLReason.getInstance(ext.getExtensionParsedValue(Extension.reasonCode)).getValue().intValue();
      }
      revocation.revoke(ctx.identity, t.getSerialNumber().getValue(), reason, ctx.signerSerial);
      rep.add(new PKIStatusInfo(PKIStatus.granted));
    }
    return new PKIBody(PKIBody.TYPE_REVOCATION_REP, rep.build());
  }

  private PKIBody genm(PKIMessage msg, Ctx ctx) throws CaException {
    InfoTypeAndValue[] asks = GenMsgContent.getInstance(msg.getBody().getContent()).toInfoTypeAndValueArray();
    List<InfoTypeAndValue> out = new ArrayList<>();
    if (asks.length == 0) {
      out.add(caCerts());
    }
    for (InfoTypeAndValue a : asks) {
      ASN1ObjectIdentifier t = a.getInfoType();
      if (t.equals(CMPObjectIdentifiers.id_it_caCerts)) {
        out.add(caCerts());
      } else if (t.equals(CMPObjectIdentifiers.it_caProtEncCert)) {
        X509CertificateHolder x = keys.currentExchange(clock.instant()).orElseThrow(() -> new CaException(
            ErrorCode.CA_NOT_INITIALISED, "the CA has no valid exchange certificate")).cert();
        out.add(new InfoTypeAndValue(t, new CMPCertificate(x.toASN1Structure())));
      } else if (t.equals(CMPObjectIdentifiers.it_currentCRL)) {
        out.add(new InfoTypeAndValue(t, crls.current().toASN1Structure()));
      } else if (t.equals(KeyarcCmp.ADMIN)) {
        if (ctx.identity == null || ctx.identity.kind() != Identity.Kind.CERTIFICATE) {
          throw new CaException(ErrorCode.NOT_AUTHORIZED, "administrative requests must be signed with a "
              + "certificate of this CA");
        }
        String json = DERUTF8String.getInstance(a.getInfoValue()).getString();
        out.add(new InfoTypeAndValue(t, new DERUTF8String(admin.handle(ctx.identity, json))));
      }
      // other infoTypes are not offered: RFC 9810 lets the answer leave them out
    }
    return new PKIBody(PKIBody.TYPE_GEN_REP, new GenRepContent(out.toArray(new InfoTypeAndValue[0])));
  }

  private InfoTypeAndValue caCerts() {
    return new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts,
        new DERSequence(new CMPCertificate(keys.caCert().toASN1Structure())));
  }

  // ------------------------------------------------------------------ answers

  private PKIMessage protect(Ctx ctx, PKIBody body, boolean implicitConfirmGranted) throws CaException {
    ProtectedPKIMessageBuilder b = header(ctx).setBody(body);
    if (implicitConfirmGranted) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.it_implicitConfirm, DERNull.INSTANCE));
    }
    try {
      if (ctx.secret != null) {
        b.setSenderKID(ctx.secret.record().reference().getBytes(StandardCharsets.UTF_8));
        return b.build(mac(ctx)).toASN1Structure();
      }
      b.addCMPCertificate(keys.caCert());
      return b.build(keys.caSigner()).toASN1Structure();
    } catch (CMPException e) {
      throw new IllegalStateException("cannot protect the answer: " + e.getMessage(), e);
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the CA cannot sign its answer: " + e.getMessage(), e);
    }
  }

  private MacCalculator mac(Ctx ctx) throws CaException {
    try {
      if (ctx.pbmac1) {
        return new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(org.keyarc.protocol.Bc.PROVIDER)
            .setIterationCount(MAC_ITERATIONS).setSaltLength(16).build(ctx.secret.secret());
      }
      return new PKMACBuilder(new JcePKMACValuesCalculator()).setSaltLength(16).setIterationCount(MAC_ITERATIONS)
          .build(ctx.secret.secret());
    } catch (CRMFException | OperatorCreationException e) {
      throw new IllegalStateException("cannot MAC the answer", e);
    }
  }

  private ProtectedPKIMessageBuilder header(Ctx ctx) {
    GeneralName recipient = ctx.header != null ? ctx.header.getSender() : new GeneralName(new X500Name(""));
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(new GeneralName(keys.caName()), recipient)
        .setMessageTime(new Date()).setSenderNonce(random(16));
    if (ctx.header != null && ctx.header.getTransactionID() != null) {
      b.setTransactionID(ctx.header.getTransactionID().getOctets());
    } else {
      b.setTransactionID(random(16));
    }
    if (ctx.header != null && ctx.header.getSenderNonce() != null) {
      b.setRecipNonce(ctx.header.getSenderNonce().getOctets());
    }
    return b;
  }

  /**
   * An error answer outside any request (a frame the transport could not read): signed with the CA
   * key, with a fresh transaction id.
   */
  public byte[] transportError(ErrorCode code, String message) {
    return errorAnswer(new Ctx(), code, message);
  }

  /** An error message; MAC-protected when the secret was verified, otherwise signed with the CA key. */
  private byte[] errorAnswer(Ctx ctx, ErrorCode code, String message) {
    PKIStatusInfo status = KeyarcCmp.rejection(code, message);
    PKIBody body = new PKIBody(PKIBody.TYPE_ERROR, new ErrorMsgContent(status, new ASN1Integer(code.number()),
        new PKIFreeText(message)));
    try {
      return protect(ctx, body, false).getEncoded();
    } catch (CaException | IOException | RuntimeException e) {
      // the HSM cannot sign: send the error unprotected rather than nothing
      LOG.warn("error answer sent unprotected: {}", e.getMessage());
      try {
        org.bouncycastle.asn1.cmp.PKIHeaderBuilder h = new org.bouncycastle.asn1.cmp.PKIHeaderBuilder(
            PKIHeader.CMP_2000, new GeneralName(keys.caName()), ctx.header != null ? ctx.header.getSender()
            : new GeneralName(new X500Name(""))).setSenderNonce(random(16))
            .setTransactionID(ctx.header != null && ctx.header.getTransactionID() != null
                ? ctx.header.getTransactionID().getOctets() : random(16));
        if (ctx.header != null && ctx.header.getSenderNonce() != null) {
          h.setRecipNonce(ctx.header.getSenderNonce().getOctets());
        }
        return new PKIMessage(h.build(), body).getEncoded();
      } catch (IOException ex) {
        throw new IllegalStateException(ex);
      }
    }
  }

  static String bodyName(int type) {
    return switch (type) {
      case PKIBody.TYPE_INIT_REQ -> "ir";
      case PKIBody.TYPE_CERT_REQ -> "cr";
      case PKIBody.TYPE_KEY_UPDATE_REQ -> "kur";
      case PKIBody.TYPE_P10_CERT_REQ -> "p10cr";
      case PKIBody.TYPE_CERT_CONFIRM -> "certConf";
      case PKIBody.TYPE_POLL_REQ -> "pollReq";
      case PKIBody.TYPE_REVOCATION_REQ -> "rr";
      case PKIBody.TYPE_GEN_MSG -> "genm";
      default -> "type" + type;
    };
  }

  static int bodyType(String name) {
    return switch (name) {
      case "ir" -> PKIBody.TYPE_INIT_REQ;
      case "kur" -> PKIBody.TYPE_KEY_UPDATE_REQ;
      default -> PKIBody.TYPE_CERT_REQ;
    };
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
