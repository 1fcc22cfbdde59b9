package org.keyarc.ca.cmp;

import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.crmf.CRMFObjectIdentifiers;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.crmf.CertReqMsg;
import org.bouncycastle.asn1.crmf.CertTemplate;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.crmf.PKIArchiveOptions;
import org.bouncycastle.asn1.crmf.ProofOfPossession;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.crmf.CRMFException;
import org.bouncycastle.cert.crmf.CertificateRepMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessage;
import org.bouncycastle.cert.crmf.CertificateResponse;
import org.bouncycastle.cert.crmf.CertificateResponseBuilder;
import org.bouncycastle.cert.crmf.PKIArchiveControl;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.keyarc.ca.CaException;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Enrollment;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.issue.RequestPolicy;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.CardEvidence;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpBodies;
import org.keyarc.protocol.cmp.CmpHeaders;
import org.keyarc.protocol.cmp.CmpProtectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate requests (ir, cr, kur, p10cr): each CertReqMsg or PKCS#10 checked (proof of possession,
 * template, subject, archive options) and mapped to the protocol-neutral {@link EnrollRequest}, and the
 * CertRepMessage answers, built with Bouncy Castle's {@link CertificateResponseBuilder} and {@link
 * CertificateRepMessageBuilder}.
 */
final class CertRequests {
  private static final Logger LOG = LoggerFactory.getLogger(CertRequests.class);
  /**
   * At most this many CertReqMsg in one ir/cr. Several in one message share one protection check and one
   * answer signature: the high-volume client's way to spend less of the node per certificate.
   */
  static final int MAX_CERT_REQUESTS = 64;

  /**
   * Runs the entries of a multi-certificate message side by side: up to 32 threads shared by all messages, made
   * when needed and gone after 30 s idle; when all are busy the message's own worker runs the entry itself (so a
   * burst slows down, never queues without bound or deadlocks).
   */
  private static final java.util.concurrent.ExecutorService ENTRIES = new java.util.concurrent.ThreadPoolExecutor(0,
      32, 30, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "keyarc-cert-entry");
        t.setDaemon(true);
        return t;
      }, new java.util.concurrent.ThreadPoolExecutor.CallerRunsPolicy());

  /** At most this many entries of one message are issued at once (on the message's worker and ENTRIES). */
  static final int LANES = 8;

  private final Enrollment enrollment;
  private final RequestPolicy policy;
  private final CaKeyring keys;
  /** RSA-OAEP as the archives use it: a certificate for a key proven by decryption goes back under it. */
  private final org.bouncycastle.asn1.x509.AlgorithmIdentifier certOaep;

  CertRequests(Enrollment enrollment, RequestPolicy policy, CaKeyring keys,
      org.bouncycastle.asn1.x509.AlgorithmIdentifier certOaep) {
    this.enrollment = enrollment;
    this.policy = policy;
    this.keys = keys;
    this.certOaep = certOaep;
  }

  /** An ir, cr or kur with one CertReqMsg, or an ir or cr with up to {@link #MAX_CERT_REQUESTS}. */
  PKIBody certRequest(PKIMessage msg, CmpContext ctx, int type) throws CaException {
    return org.keyarc.ca.support.Futures.join(certRequestAsync(msg, ctx, type));
  }

  /**
   * {@link #certRequest} answered from the commit: for one CertReqMsg on a plain template the future completes (on
   * the store's commit thread) once the certificate is stored; several CertReqMsg, held and archived requests are
   * done before it returns.
   */
  java.util.concurrent.CompletableFuture<PKIBody> certRequestAsync(PKIMessage msg, CmpContext ctx, int type)
      throws CaException {
    CertReqMsg[] all = CertReqMessages.getInstance(msg.getBody().getContent()).toCertReqMsgArray();
    if (all.length == 0) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the request holds no CertReqMsg");
    }
    int repType = CmpBodies.responseType(type);
    RequestPolicy.Credential cred = policy.credential(ctx.identity, ctx.secret, ctx.signerSerial);
    if (all.length == 1) {
      CertificateRequestMessage req = new CertificateRequestMessage(all[0]);
      return enrollment.enrollAsync(enrollRequest(msg, ctx, cred, type, req), ctx.replayInUnit())
          // issued, so committed with its replay record: said here, whether or not the stage below can run
          .whenComplete((out, failure) -> ctx.replayStored |= failure == null)
          // off the commit thread, whether it issued or failed: what follows (the answer, its signature in the HSM,
          // a replay record of its own) runs on ctx.after, and may wait for a commit without blocking the committer
          .handleAsync((out, failure) -> {
            if (failure != null) {
              throw failure instanceof java.util.concurrent.CompletionException c ? c
                  : new java.util.concurrent.CompletionException(failure);
            }
            return org.keyarc.ca.support.Futures.inStage(() -> answer(ctx, repType, req.getCertReqId(), out));
          }, ctx.after);
    }
    return java.util.concurrent.CompletableFuture.completedFuture(several(msg, ctx, type, all, repType, cred));
  }

  /** One entry of a multi-certificate message issued: its Outcome, or what refused or failed it (never thrown). */
  private Object issueEntry(EnrollRequest one) {
    try {
      return enrollment.enroll(one);
    } catch (OutOfMemoryError e) {
      throw e;
    } catch (CaException | RuntimeException | Error e) {
      return e;
    }
  }

  private PKIBody several(PKIMessage msg, CmpContext ctx, int type, CertReqMsg[] all, int repType,
      RequestPolicy.Credential cred) throws CaException {
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
    for (CertReqMsg m : all) {
      SubjectPublicKeyInfo k = m.getCertReq().getCertTemplate().getPublicKey();
      if (k == null || k.getPublicKeyData().getBytes().length == 0) {
        throw new CaException(ErrorCode.BAD_REQUEST, "central key generation takes one CertReqMsg per message, not "
            + all.length + " (each key is made in the HSM)");
      }
    }
    // every entry is checked before any is issued: a refused entry gets its own rejection, and the
    // others are issued side by side below, each in its own savepoint of the group commit
    EnrollRequest[] checked = new EnrollRequest[all.length];
    CertificateResponse[] responses = new CertificateResponse[all.length];
    for (int i = 0; i < all.length; i++) {
      try {
        checked[i] = enrollRequest(msg, ctx, cred, type, new CertificateRequestMessage(all[i]));
      } catch (CaException e) {
        ctx.refusals.add(e);
        responses[i] = refused(all[i], e.code(), e.getMessage());
      } catch (IllegalArgumentException | IllegalStateException e) {
        responses[i] = refused(all[i], ErrorCode.BAD_MESSAGE, "the CertReqMsg is malformed: "
            + Texts.printable(e.getMessage()));
      }
    }
    // the entries are issued side by side: their HSM signatures run on several sessions at once, and their units
    // of work reach the group commit together, so one message costs about one commit (each entry still in its own
    // savepoint: all-or-nothing per certificate). At most LANES per message, so that one large message leaves HSM
    // sessions and pool threads to the others.
    Object[] done = new Object[all.length];
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    Runnable lane = () -> {
      for (int i = next.getAndIncrement(); i < all.length; i = next.getAndIncrement()) {
        if (checked[i] != null) {
          done[i] = issueEntry(checked[i]);
        }
      }
    };
    int lanes = Math.min(LANES, all.length);
    java.util.List<java.util.concurrent.CompletableFuture<Void>> running = new java.util.ArrayList<>();
    for (int l = 1; l < lanes; l++) {
      running.add(java.util.concurrent.CompletableFuture.runAsync(lane, ENTRIES));
    }
    lane.run(); // the message's own worker is one of its lanes
    for (java.util.concurrent.CompletableFuture<Void> f : running) {
      f.join(); // a lane never fails: issueEntry keeps whatever an entry threw as that entry's outcome
    }
    boolean anyIssued = false;
    boolean allConfirmed = true;
    for (int i = 0; i < all.length; i++) {
      if (done[i] == null) {
        continue;
      }
      if (done[i] instanceof CaException e) {
        ctx.refusals.add(e);
        responses[i] = refused(all[i], e.code(), e.getMessage());
      } else if (done[i] instanceof Throwable bad && (CmpResponder.malformed(bad) || bad instanceof StackOverflowError)) {
        LOG.warn("certReqId {} refused: malformed content ({}: {})", all[i].getCertReq().getCertReqId().getValue(),
            bad.getClass().getSimpleName(), Texts.printable(String.valueOf(bad.getMessage())));
        responses[i] = refused(all[i], ErrorCode.BAD_MESSAGE, "the CertReqMsg is malformed: "
            + Texts.printable(String.valueOf(bad.getMessage())));
      } else if (done[i] instanceof Throwable bug) {
        // the node's own fault in this entry: the others were issued and stored, and are answered; this one is
        // rejected with an incident id to find its stack trace by
        String incident = CmpResponder.incident();
        LOG.error("certReqId {} failed (incident {})", all[i].getCertReq().getCertReqId().getValue(), incident, bug);
        responses[i] = refused(all[i], ErrorCode.INTERNAL, "the CA could not process this CertReqMsg (incident "
            + incident + ")");
      } else {
        Outcome out = (Outcome) done[i];
        responses[i] = response(all[i].getCertReq().getCertReqId(), out);
        if (out instanceof Outcome.Issued issued) {
          anyIssued = true;
          allConfirmed &= issued.confirmed();
        }
      }
    }
    ctx.implicitConfirmGranted = anyIssued && allConfirmed;
    CertificateRepMessageBuilder rep = anyIssued ? new CertificateRepMessageBuilder(keys.caCert())
        : new CertificateRepMessageBuilder();
    for (CertificateResponse r : responses) {
      rep.addCertificateResponse(r);
    }
    return new PKIBody(repType, rep.build().toASN1Structure());
  }

  /**
   * A p10cr: the PKCS#10 self-signature is its proof of possession; its extensionRequest is checked like a
   * CRMF template's extensions ({@link RequestPolicy}).
   */
  PKIBody p10(PKIMessage msg, CmpContext ctx) throws CaException {
    PKCS10CertificationRequest csr;
    try {
      csr = new PKCS10CertificationRequest(CertificationRequest.getInstance(msg.getBody().getContent()));
    } catch (RuntimeException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the p10cr body is not a PKCS#10 request");
    }
    Attribute[] asked = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    if (asked.length > 1 || (asked.length == 1 && asked[0].getAttrValues().size() != 1)) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the PKCS#10 request must carry at most one extensionRequest "
          + "with one value");
    }
    Extensions ext;
    try {
      ext = asked.length == 0 ? null : Extensions.getInstance(asked[0].getAttrValues().getObjectAt(0));
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the PKCS#10 extensionRequest is not a list of extensions");
    }
    CardEvidence evidence = cardEvidence(csr);
    RequestPolicy.Decision d = policy.enrollment(policy.credential(ctx.identity, ctx.secret, ctx.signerSerial),
        certProfile(msg), csr.getSubject(), ext);
    // the cheap checks first: the template's key rules before the (possibly costly) signature check
    TemplateRules.checkKey(d.template(), csr.getSubjectPublicKeyInfo());
    try {
      if (!csr.isSignatureValid(org.keyarc.ca.support.NativeVerify.of(csr.getSubjectPublicKeyInfo()))) {
        throw new CaException(ErrorCode.BAD_POP, "the PKCS#10 signature does not verify with its public key");
      }
    } catch (PKCSException | OperatorCreationException | RuntimeException e) {
      throw new CaException(ErrorCode.BAD_POP, "the PKCS#10 request cannot be verified");
    }
    Outcome out = enrollment.enroll(new EnrollRequest(ctx.identity, new EnrollRequest.ClientRef(ctx.transactionId, 0,
        CmpBodies.name(PKIBody.TYPE_P10_CERT_REQ)), d.template(), d.subject(), csr.getSubjectPublicKeyInfo(),
        d.subjectAltNames(),
        CmpHeaders.implicitConfirm(msg.getHeader()), ctx.secret == null ? null : ctx.secret.record().reference(),
        null, evidence));
    return answer(ctx, PKIBody.TYPE_CERT_REP, new ASN1Integer(0), out);
  }

  /**
   * The recovery agent's card evidence in a PKCS#10 attribute ({@link KeyarcCmp#CARD_EVIDENCE}), signed by the
   * requested key with the rest of the request; null when there is none. One at most, well formed.
   */
  private static CardEvidence cardEvidence(PKCS10CertificationRequest csr) throws CaException {
    Attribute[] found = csr.getAttributes(KeyarcCmp.CARD_EVIDENCE);
    if (found.length == 0) {
      return null;
    }
    if (found.length > 1) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the PKCS#10 carries " + found.length + " card evidence "
          + "attributes; send one");
    }
    try {
      return CardEvidence.of(found[0]);
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, Texts.printable(e.getMessage()) + " (nothing was stored)");
    }
  }

  /**
   * One CertReqMsg checked (proof of possession; the sender's permission, the template, subject and
   * subjectAltNames through {@link RequestPolicy}) and ready for {@link Enrollment#enroll}.
   */
  private EnrollRequest enrollRequest(PKIMessage msg, CmpContext ctx, RequestPolicy.Credential cred, int type,
      CertificateRequestMessage req) throws CaException {
    CertTemplate tpl = req.getCertTemplate();
    SubjectPublicKeyInfo spki = tpl.getPublicKey();
    boolean central = spki == null || spki.getPublicKeyData().getBytes().length == 0;
    Extensions ext;
    try {
      ext = tpl.getExtensions();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the certificate template's extensions cannot be read");
    }
    RequestPolicy.Decision d = type == PKIBody.TYPE_KEY_UPDATE_REQ
        ? policy.keyUpdate(cred, tpl.getSubject(), ext)
        : policy.enrollment(cred, certProfile(msg), tpl.getSubject(), ext);
    // the cheap checks first: who may enroll, names, and the template's key rules before the proof of possession
    // (an RSA-16384 key or a 4,000,000-bit exponent costs seconds to verify)
    if (central) {
      return new EnrollRequest(ctx.identity, new EnrollRequest.ClientRef(ctx.transactionId,
          req.getCertReqId().longValueExact(), CmpBodies.name(type)), d.template(), d.subject(), null,
          d.subjectAltNames(), CmpHeaders.implicitConfirm(msg.getHeader()), ctx.secret == null ? null
          : ctx.secret.record().reference(), null, null, keyGen(msg, ctx, req, d.template(), spki, type));
    }
    TemplateRules.checkKey(d.template(), spki);
    org.keyarc.ca.template.Template t = d.template();
    boolean indirect = decryptionPop(req, type);
    if (indirect) {
      t = TemplateRules.forIndirectPop(t, spki);
    } else {
      checkPop(req, spki);
    }
    // a key proven by decryption is never implicitly confirmed: its certConf is the proof
    return new EnrollRequest(ctx.identity, new EnrollRequest.ClientRef(ctx.transactionId,
        req.getCertReqId().longValueExact(), CmpBodies.name(type)), t, d.subject(), spki, d.subjectAltNames(),
        CmpHeaders.implicitConfirm(msg.getHeader()) && !indirect, ctx.secret == null ? null
        : ctx.secret.record().reference(), archiveOptions(ctx, req), cardEvidence(req), null, indirect);
  }

  /**
   * True for RFC 4210's indirect proof of possession by a key that only decrypts: POPOPrivKey subsequentMessage
   * encrCert (the certificate goes back encrypted to the key; the certConf's hash proves the key opened it), in an ir
   * or cr. False for a signature; any other form (raVerified, challengeResp, thisMessage, MACs) is refused.
   */
  private static boolean decryptionPop(CertificateRequestMessage req, int type) throws CaException {
    if (!req.hasProofOfPossession() || req.getProofOfPossessionType() != ProofOfPossession.TYPE_KEY_ENCIPHERMENT) {
      return false;
    }
    org.bouncycastle.asn1.crmf.POPOPrivKey p;
    try {
      p = org.bouncycastle.asn1.crmf.POPOPrivKey.getInstance(req.toASN1Structure().getPopo().getObject());
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CaException(ErrorCode.BAD_POP, "the keyEncipherment proof of possession cannot be read");
    }
    if (p.getType() != org.bouncycastle.asn1.crmf.POPOPrivKey.subsequentMessage
        || !org.bouncycastle.asn1.crmf.SubsequentMessage.encrCert.equals(p.getValue())) {
      throw new CaException(ErrorCode.BAD_POP, "of the keyEncipherment proofs of possession only subsequentMessage "
          + "encrCert is accepted (the certificate comes back encrypted to the key)");
    }
    if (type == PKIBody.TYPE_KEY_UPDATE_REQ) {
      throw new CaException(ErrorCode.BAD_POP, "kur proves possession of the new key with a signature; encrCert is "
          + "for ir and cr");
    }
    return true;
  }

  /** The recovery agent's card evidence in a CRMF regInfo entry ({@link KeyarcCmp#CARD_EVIDENCE}); null if none. */
  private static CardEvidence cardEvidence(CertificateRequestMessage req) throws CaException {
    org.bouncycastle.asn1.crmf.AttributeTypeAndValue[] info = req.toASN1Structure().getRegInfo();
    CardEvidence found = null;
    for (org.bouncycastle.asn1.crmf.AttributeTypeAndValue a : info == null
        ? new org.bouncycastle.asn1.crmf.AttributeTypeAndValue[0] : info) {
      if (!a.getType().equals(KeyarcCmp.CARD_EVIDENCE)) {
        continue;
      }
      if (found != null) {
        throw new CaException(ErrorCode.BAD_MESSAGE, "the CertReqMsg carries more than one card evidence entry in "
            + "regInfo; send one");
      }
      try {
        found = CardEvidence.of(a);
      } catch (IllegalArgumentException e) {
        throw new CaException(ErrorCode.BAD_MESSAGE, Texts.printable(e.getMessage()) + " (nothing was stored)");
      }
    }
    return found;
  }

  /**
   * A request without a public key (RFC 9483 4.1.6, central key generation): allowed on templates with
   * centralKeygen, over a confidential channel, without a proof of possession or a private key of its own. The key
   * type is the one the template's algorithm names (an AlgorithmIdentifier with an empty key), else the template's
   * first: RSA of its smallest size (at least 2048), or its first EC curve. The key goes back under the one-time
   * secret of a MAC-protected request, or RSA-OAEP to the protection certificate of a signed one.
   */
  private static EnrollRequest.KeyGen keyGen(PKIMessage msg, CmpContext ctx, CertificateRequestMessage req,
      org.keyarc.ca.template.Template t, SubjectPublicKeyInfo spki, int type) throws CaException {
    if (!t.centralKeygen()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the certificate template has no public key, and template "
          + t.name() + " does not generate keys centrally: send the public key");
    }
    if (type == PKIBody.TYPE_KEY_UPDATE_REQ) {
      throw new CaException(ErrorCode.BAD_REQUEST, "central key generation is for ir and cr, not kur");
    }
    GeneralMessages.requireTls(ctx, "central key generation");
    if (req.hasProofOfPossession()) {
      throw new CaException(ErrorCode.BAD_POP, "a request for a centrally generated key has no proof of possession "
          + "(there is no key yet); leave popo out");
    }
    var oid = CRMFObjectIdentifiers.id_regCtrl_pkiArchiveOptions;
    if (req.hasControl(oid) && ((PKIArchiveControl) req.getControl(oid)).getArchiveType()
        != PKIArchiveControl.archiveRemGenPrivKey) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a request for a centrally generated key can only ask for "
          + "archiveRemGenPrivKey in PKIArchiveOptions (the CA archives it anyway)");
    }
    org.keyarc.hsm.KeySpec spec = keySpec(t, spki == null ? null : spki.getAlgorithm());
    org.keyarc.ca.kra.KeyArchiver.Delivery to;
    if (ctx.secret != null) {
      to = new org.keyarc.ca.kra.KeyArchiver.Delivery.ToSecret(ctx.secret.secret());
    } else {
      if (ctx.signerCert == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the generated key is returned encrypted to the requester: "
            + "protect the request with a one-time secret, or sign it with a certificate of this CA");
      }
      // the certificate whose key verified the protection: another certificate added to extraCerts (they are not
      // covered by the protection) must never receive the key
      java.security.PublicKey key = org.keyarc.ca.keys.CaKeyring.publicKey(ctx.signerCert.getSubjectPublicKeyInfo());
      if (!(key instanceof java.security.interfaces.RSAPublicKey rsa) || rsa.getModulus().bitLength() < 2048) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the generated key is returned RSA-OAEP-encrypted to the signing "
            + "certificate, which must hold an RSA key of at least 2048 bits; sign with one, or use a one-time secret");
      }
      to = new org.keyarc.ca.kra.KeyArchiver.Delivery.ToKey(key);
    }
    return new EnrollRequest.KeyGen(spec, to);
  }

  /** The key a template generates: the requested algorithm if the template allows it, else the template's first. */
  static org.keyarc.hsm.KeySpec keySpec(org.keyarc.ca.template.Template t,
      org.bouncycastle.asn1.x509.AlgorithmIdentifier asked) throws CaException {
    boolean rsa = asked == null ? t.rsaMinBits() > 0 : asked.getAlgorithm().equals(
        org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption);
    if (rsa) {
      if (t.rsaMinBits() <= 0) {
        throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " takes no RSA keys");
      }
      if (t.rsaMinBits() > 4096) {
        throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " asks for RSA keys of "
            + t.rsaMinBits() + " bits; the CA generates at most 4096");
      }
      return t.rsaMinBits() <= 2048 ? org.keyarc.hsm.KeySpec.RSA_2048 : t.rsaMinBits() <= 3072
          ? org.keyarc.hsm.KeySpec.RSA_3072 : org.keyarc.hsm.KeySpec.RSA_4096;
    }
    org.bouncycastle.asn1.ASN1ObjectIdentifier curve = null;
    if (asked != null) {
      if (!asked.getAlgorithm().equals(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey)
          || !(asked.getParameters() instanceof org.bouncycastle.asn1.ASN1ObjectIdentifier c)) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the CA generates RSA keys or EC keys on a named curve, not "
            + asked.getAlgorithm());
      }
      curve = c;
    }
    for (org.keyarc.hsm.KeySpec k : java.util.List.of(org.keyarc.hsm.KeySpec.EC_P256, org.keyarc.hsm.KeySpec.EC_P384)) {
      if (t.ecCurves().contains(k.curve()) && (curve == null || curve.equals(k.curve()))) {
        return k;
      }
    }
    throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " allows no EC curve the CA generates "
        + "keys on (P-256, P-384)" + (curve == null ? "" : " matching " + curve));
  }

  private static String certProfile(PKIMessage msg) throws CaException {
    try {
      return CmpHeaders.certProfile(msg.getHeader());
    } catch (CmpProtectionException e) {
      throw CmpResponder.refusal(e);
    }
  }

  /** The encrypted private key of the request's PKIArchiveOptions control, or null when there is none. */
  private static EncryptedKey archiveOptions(CmpContext ctx, CertificateRequestMessage req) throws CaException {
    var oid = CRMFObjectIdentifiers.id_regCtrl_pkiArchiveOptions;
    if (!req.hasControl(oid)) {
      return null;
    }
    GeneralMessages.requireTls(ctx, "archival enrollments");
    PKIArchiveControl control = (PKIArchiveControl) req.getControl(oid);
    if (control.getArchiveType() != PKIArchiveControl.encryptedPrivKey) {
      throw new CaException(ErrorCode.ARCHIVE_FORM_REFUSED, "PKIArchiveOptions must carry encryptedPrivKey (the "
          + "key itself); keyGenParameters and archiveRemGenPrivKey are not supported");
    }
    return EncryptedKey.getInstance(PKIArchiveOptions.getInstance(control.getValue()).getValue());
  }

  private static void checkPop(CertificateRequestMessage req, SubjectPublicKeyInfo spki) throws CaException {
    if (!req.hasProofOfPossession()) {
      throw new CaException(ErrorCode.BAD_POP, "the request has no proof of possession");
    }
    if (req.getProofOfPossessionType() != ProofOfPossession.TYPE_SIGNING_KEY) {
      throw new CaException(ErrorCode.BAD_POP, "only a signature proof of possession, or encrCert for a key that "
          + "only decrypts, is accepted (raVerified and key agreement are not)");
    }
    boolean ok;
    try {
      ok = req.isValidSigningKeyPOP(org.keyarc.ca.support.NativeVerify.of(spki));
    } catch (CRMFException | OperatorCreationException | IllegalStateException e) {
      ok = false;
    }
    if (!ok) {
      throw new CaException(ErrorCode.BAD_POP, "the proof of possession does not verify with the requested public key");
    }
  }

  // ------------------------------------------------------------------ answers

  /** The answer to one certificate request: issued (with the CA in caPubs) or waiting for approval. */
  private PKIBody answer(CmpContext ctx, int repType, ASN1Integer certReqId, Outcome out) throws CaException {
    if (out instanceof Outcome.Issued issued) {
      ctx.implicitConfirmGranted = issued.confirmed();
      return new PKIBody(repType, new CertificateRepMessageBuilder(keys.caCert())
          .addCertificateResponse(granted(certReqId, issued)).build().toASN1Structure());
    }
    return new PKIBody(repType, new CertificateRepMessageBuilder().addCertificateResponse(response(certReqId, out))
        .build().toASN1Structure());
  }

  /**
   * A CertRepMessage granting {@code cert}, with the CA certificate in caPubs; {@code encryptToKey}: the certificate
   * encrypted to its own key (encrCert).
   */
  PKIBody issued(int repType, ASN1Integer certReqId, X509CertificateHolder cert, boolean encryptToKey)
      throws CaException {
    return new PKIBody(repType, new CertificateRepMessageBuilder(keys.caCert())
        .addCertificateResponse(encryptToKey ? encrypted(certReqId, cert) : granted(certReqId, cert)).build()
        .toASN1Structure());
  }

  /**
   * The certificate as CMS EnvelopedData to its own public key (RFC 4210 5.2.8.3 encrCert, in RFC 9480's
   * envelopedData form): RSA-OAEP with the hash the certificate lists first (a recovery agent's card: so the certConf
   * also proves the card decrypts what its certificate claims), else as the archives use it; AES-256-CBC. Only the
   * holder of the private key reads it, and only the certConf that names its hash makes it count.
   */
  private CertificateResponse encrypted(ASN1Integer certReqId, X509CertificateHolder cert) throws CaException {
    org.keyarc.hsm.OaepHash listed = org.keyarc.protocol.OaepCapabilities.preferred(cert);
    try {
      org.bouncycastle.cms.CMSEnvelopedData env = new org.bouncycastle.cms.CMSEnvelopedData(
          org.keyarc.protocol.archive.Envelopes.layer(cert.getEncoded(), cert, listed != null
              ? listed.algorithmIdentifier() : certOaep));
      return new CertificateResponseBuilder(certReqId, new PKIStatusInfo(PKIStatus.granted)).withCertificate(env)
          .build();
    } catch (org.bouncycastle.cms.CMSException | java.io.IOException | IllegalStateException e) {
      // not reached for a key the key rules let through (an odd exponent of 3 to 32 bits, a checked modulus); if it
      // were, the stored certificate stays UNCONFIRMED and the node revokes it at its certConf deadline
      throw new CaException(ErrorCode.INTERNAL, "cannot encrypt the certificate to its key: " + e.getMessage());
    }
  }

  /** A CertRepMessage with one rejection and no caPubs. */
  static PKIBody rejected(int repType, ASN1Integer certReqId, PKIStatusInfo rejection) {
    return new PKIBody(repType, new CertificateRepMessageBuilder()
        .addCertificateResponse(new CertificateResponseBuilder(certReqId, rejection).build()).build()
        .toASN1Structure());
  }

  /** The CertResponse for one outcome: the certificate, or "waiting" for a manager's approval. */
  private CertificateResponse response(ASN1Integer certReqId, Outcome out) throws CaException {
    if (out instanceof Outcome.Pending p) {
      return new CertificateResponseBuilder(certReqId, new PKIStatusInfo(PKIStatus.waiting, new PKIFreeText("request "
          + p.requestId() + " waits for a certificate manager's approval; poll with pollReq"))).build();
    }
    return granted(certReqId, (Outcome.Issued) out);
  }

  private static CertificateResponse granted(ASN1Integer certReqId, X509CertificateHolder cert) {
    return new CertificateResponseBuilder(certReqId, new PKIStatusInfo(PKIStatus.granted)).withCertificate(cert)
        .build();
  }

  /**
   * The certificate and, for central key generation, the private key the CA made (Bouncy Castle's response builder
   * has no privateKey field): CertifiedKeyPair { certificate, privateKey [0] EncryptedKey (encryptedValue) }.
   */
  private CertificateResponse granted(ASN1Integer certReqId, Outcome.Issued issued) throws CaException {
    if (issued.encryptToKey()) {
      return encrypted(certReqId, issued.cert());
    }
    if (issued.privateKey() == null) {
      return granted(certReqId, issued.cert());
    }
    org.bouncycastle.asn1.cmp.CertifiedKeyPair pair = new org.bouncycastle.asn1.cmp.CertifiedKeyPair(
        new org.bouncycastle.asn1.cmp.CertOrEncCert(new org.bouncycastle.asn1.cmp.CMPCertificate(
            issued.cert().toASN1Structure())), new EncryptedKey(issued.privateKey()), null);
    return new CertificateResponse(new org.bouncycastle.asn1.cmp.CertResponse(certReqId, new PKIStatusInfo(
        PKIStatus.granted), pair, null));
  }

  private static CertificateResponse refused(CertReqMsg m, ErrorCode code, String message) {
    LOG.info("CertReqMsg {} refused: {} ({})", m.getCertReq().getCertReqId().getValue(), message, code);
    return new CertificateResponseBuilder(m.getCertReq().getCertReqId(), KeyarcCmp.rejection(code, message)).build();
  }
}
