package org.keyarc.ca.cmp;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.AuthFailures;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.ReplayGuard;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.issue.Enrollment;
import org.keyarc.ca.issue.RequestPolicy;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.ca.support.Texts;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.asn1.DerLimits;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpBodies;
import org.keyarc.protocol.cmp.CmpHeaders;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.CmpProtectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CMP server logic, the same for both transports: one DER PKIMessage in, one DER PKIMessage out.
 * It never throws: anything wrong becomes a CMP error message with the keyarc code in its text and
 * the matching PKIFailureInfo. Answers to MAC-protected requests are MAC-protected with the same
 * secret; all other answers are signed with the CMP responder key (its certificate, issued by the CA, and
 * the CA certificate in extraCerts), never with the CA key. Errors to a sender that is not authenticated
 * (no protection, a failed MAC or signature, a replay, a spent failure budget) go out unprotected, as RFC
 * 9810 allows: no key signs or MACs what such a sender chose.
 *
 * <p>Before any work: the peer's failure budget; the header (a protected request needs a messageTime within
 * the skew and a senderNonce); the sender's authentication ({@link CmpAuthenticator}); the freshness of a
 * protected request (its transactionID and senderNonce never seen before, {@link ReplayGuard}).
 *
 * <p>This class parses, checks the header, dispatches and protects the answer; {@link CmpAuthenticator}
 * establishes the sender, {@link CertRequests} handles ir/cr/kur/p10cr, {@link FollowUps}
 * certConf/pollReq/rr and {@link GeneralMessages} genm.
 */
public final class CmpResponder {
  private static final Logger LOG = LoggerFactory.getLogger(CmpResponder.class);

  /** At most this many CertReqMsg in one ir/cr (see {@link CertRequests#MAX_CERT_REQUESTS}). */
  public static final int MAX_CERT_REQUESTS = CertRequests.MAX_CERT_REQUESTS;
  /** Bounds, in bytes, of a request's transactionID and (when protected) senderNonce. */
  static final int MIN_ID = 8;
  static final int MAX_ID = 32;

  private final IdentityService identities;
  private final CmpAuthenticator authenticator;
  private final CertRequests certRequests;
  private final FollowUps followUps;
  private final GeneralMessages generalMessages;
  private final CaKeyring keys;
  private final Clock clock;
  private final long messageTimeSkewSeconds;
  private final MeterRegistry metrics;
  private final AuthFailures failures;
  private final ReplayGuard replays;

  /**
   * {@code metrics} may be null; {@code messageTimeSkewSeconds} bounds a request's messageTime; {@code failures}
   * audits failed authentication and keeps the failure budgets; {@code replays} remembers protected requests;
   * {@code certOaep} is the RSA-OAEP a certificate for a key proven by decryption is encrypted with (the archives').
   */
  public CmpResponder(IdentityService identities, SecretService secrets, Enrollment enrollment, RequestPolicy policy,
      RevocationService revocation, CrlService crls, CaKeyring keys, AdminApi admin, Clock clock,
      long messageTimeSkewSeconds, MeterRegistry metrics, AuthFailures failures, ReplayGuard replays,
      org.bouncycastle.asn1.x509.AlgorithmIdentifier certOaep) {
    this.identities = identities;
    this.authenticator = new CmpAuthenticator(identities, secrets, failures);
    this.failures = failures;
    this.replays = replays;
    this.certRequests = new CertRequests(enrollment, policy, keys, certOaep);
    this.followUps = new FollowUps(enrollment, revocation, keys, certRequests);
    this.generalMessages = new GeneralMessages(keys, crls, admin, clock);
    this.keys = keys;
    this.clock = clock;
    this.messageTimeSkewSeconds = messageTimeSkewSeconds;
    this.metrics = metrics;
  }

  /** The refusal of a message that breaks the shared CMP rules of {@code org.keyarc.protocol.cmp}. */
  static CaException refusal(CmpProtectionException e) {
    return new CaException(e.code(), e.getMessage());
  }

  /**
   * Answers one request from a caller with no network in between (tests, benchmarks): as {@link #handle(byte[],
   * X509CertificateHolder, String, boolean)} from an unknown peer on a confidential channel.
   */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient) {
    return handle(der, tlsClient, null, true);
  }

  /**
   * Answers one request from an unknown peer; {@code confidential} as in {@link #handle(byte[],
   * X509CertificateHolder, String, boolean)}.
   */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient, boolean confidential) {
    return handle(der, tlsClient, null, confidential);
  }

  /**
   * Answers one request from {@code peer} over a channel that is <em>not</em> confidential (no TLS): one-time
   * secrets, administrative answers and archival enrollments are refused. Transports say what they know with
   * {@link #handle(byte[], X509CertificateHolder, String, boolean)}.
   */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient, String peer) {
    return handle(der, tlsClient, peer, false);
  }

  /**
   * Answers one request. {@code tlsClient} is the TLS client certificate, if any; {@code peer} the sender's
   * address without port (null: unknown), for the audit of failures and the per-peer failure budget;
   * {@code confidential} says whether the request came over TLS (or a listener whose administrator allowed
   * secrets in clear): without it, one-time secrets, administrative answers and archival enrollments are refused
   * with TLS_REQUIRED.
   */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient, String peer, boolean confidential) {
    return handleAsync(der, tlsClient, peer, confidential, java.util.concurrent.ForkJoinPool.commonPool()).join();
  }

  /**
   * {@link #handle(byte[], X509CertificateHolder, String, boolean)} without a thread waiting on the disk: the future
   * completes with the answer. The request is read, authenticated and checked, and its certificate signed, on the
   * calling thread; a one-certificate issuance then waits for its group commit with no thread held, and its answer
   * is built and signed on {@code after} (the node's workers) once the commit completes. Every other request is
   * answered before this returns. The future fails only with an Error the node cannot answer (out of memory).
   */
  public java.util.concurrent.CompletableFuture<byte[]> handleAsync(byte[] der, X509CertificateHolder tlsClient,
      String peer, boolean confidential, java.util.concurrent.Executor after) {
    long start = System.nanoTime();
    CmpContext ctx = new CmpContext();
    if (peer != null) {
      ctx.peer = peer;
    }
    ctx.confidential = confidential;
    ctx.after = after;
    String[] body = {"unknown"};
    java.util.concurrent.CompletableFuture<PKIMessage> answer;
    try {
      failures.checkAuditRoom(); // no work while a refusal could not be audited
      PKIMessage msg;
      try {
        DerLimits.check(der, DerLimits.DEFAULT_MAX_DEPTH); // constant stack: before Bouncy Castle recurses
      } catch (org.keyarc.protocol.KeyarcException e) {
        throw new CaException(e.code(), e.getMessage());
      }
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
      body[0] = CmpBodies.name(msg.getBody().getType());
      ctx.operation = body[0];
      answer = dispatch(msg, ctx, tlsClient);
    } catch (OutOfMemoryError e) {
      replays.release(ctx.replay);
      throw e;
    } catch (CaException | RuntimeException | Error e) {
      answer = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    return answer.handle((a, failure) -> finish(ctx, body[0], a,
        failure == null ? null : org.keyarc.ca.support.Futures.cause(failure), start));
  }

  /** The answer's bytes, or the error answer for what failed; counted in keyarc.cmp.requests. */
  private byte[] finish(CmpContext ctx, String body, PKIMessage answer, Throwable failure, long start) {
    String outcome = "error";
    try {
      if (failure == null) {
        outcome = answer.getBody().getType() == PKIBody.TYPE_ERROR ? "refused" : "ok";
        for (CaException refused : ctx.refusals) {
          identities.auditRefusal(ctx.identity, ctx.operation, refused);
        }
        return answer.getEncoded();
      }
      outcome = failure instanceof CaException || failure instanceof StackOverflowError || malformed(failure)
          ? "refused" : "error";
      return errorFor(ctx, body, failure);
    } catch (IOException e) {
      outcome = "error";
      return errorFor(ctx, body, e);
    } finally {
      replays.release(ctx.replay); // its record is stored (or it failed before): later copies meet the store's
      if (metrics != null) {
        Timer.builder("keyarc.cmp.requests").tag("body", body).tag("outcome", outcome)
            .description("CMP requests answered").register(metrics)
            .record(Duration.ofNanos(System.nanoTime() - start));
      }
    }
  }

  /**
   * Bouncy Castle's getInstance() methods refuse malformed structures inside a well-formed PKIMessage; integers out
   * of range (intValueExact), missing items and undecodable signatures are malformed messages too.
   */
  static boolean malformed(Throwable e) {
    return e instanceof IllegalArgumentException || e instanceof ClassCastException
        || e instanceof IllegalStateException || e instanceof ArithmeticException
        || e instanceof java.util.NoSuchElementException || e instanceof IndexOutOfBoundsException
        || e instanceof NullPointerException || e instanceof org.bouncycastle.operator.RuntimeOperatorException;
  }

  /** The error answer for a request that failed with {@code e}. */
  private byte[] errorFor(CmpContext ctx, String body, Throwable e) {
    if (e instanceof OutOfMemoryError oom) {
      throw oom;
    }
    if (e instanceof CaException k) {
      LOG.info("{} refused: {} ({})", body, k.getMessage(), k.code());
      // every authorisation refusal is audited here, with the actor and the operation (NIAP FAU_GEN.1)
      identities.auditRefusal(ctx.identity, ctx.operation, k);
      return errorAnswer(ctx, k.code(), k.getMessage());
    }
    if (e instanceof java.util.concurrent.RejectedExecutionException) {
      return errorAnswer(ctx, ErrorCode.NODE_UNAVAILABLE, "the node is shutting down");
    }
    if (malformed(e)) {
      LOG.warn("{} refused: malformed content ({}: {} at {})", body, e.getClass().getSimpleName(),
          Texts.printable(e.getMessage()), e.getStackTrace().length > 0 ? e.getStackTrace()[0] : "?");
      return errorAnswer(ctx, ErrorCode.BAD_MESSAGE, "the " + body + " body is malformed: "
          + Texts.printable(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
    if (e instanceof StackOverflowError) {
      LOG.warn("{} refused: nested too deeply to parse", body);
      return errorAnswer(ctx, ErrorCode.BAD_MESSAGE, "the " + body + " body is nested too deeply");
    }
    // the node's own fault: the one place with a stack trace, and an incident id to find it by
    String incident = incident();
    LOG.error("{} failed (incident {})", body, incident, e);
    return errorAnswer(ctx, ErrorCode.INTERNAL, "the CA could not process the request (incident " + incident
        + ")");
  }

  /** A fresh incident id: the node's log line with the stack trace and the client's error text both carry it. */
  static String incident() {
    return HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(8).putLong(
        java.util.concurrent.ThreadLocalRandom.current().nextLong()).array());
  }

  private java.util.concurrent.CompletableFuture<PKIMessage> dispatch(PKIMessage msg, CmpContext ctx,
      X509CertificateHolder tlsClient) throws CaException {
    failures.checkPeer(ctx.peer);
    PKIHeader h = msg.getHeader();
    boolean protectedRequest = h.getProtectionAlg() != null && msg.getProtection() != null;
    Instant messageTime = checkHeader(h, protectedRequest);
    int type = msg.getBody().getType();
    authenticator.authenticate(msg, ctx, type, tlsClient);
    if (protectedRequest) {
      fresh(msg, ctx, type, messageTime);
    }
    ctx.authenticated = ctx.identity != null;
    java.util.concurrent.CompletableFuture<PKIBody> answer;
    try {
      answer = switch (type) {
        case PKIBody.TYPE_INIT_REQ, PKIBody.TYPE_CERT_REQ, PKIBody.TYPE_KEY_UPDATE_REQ ->
            certRequests.certRequestAsync(msg, ctx, type);
        case PKIBody.TYPE_P10_CERT_REQ -> done(certRequests.p10(msg, ctx));
        case PKIBody.TYPE_CERT_CONFIRM -> done(followUps.certConf(msg, ctx));
        case PKIBody.TYPE_POLL_REQ -> done(followUps.pollReq(msg, ctx));
        case PKIBody.TYPE_REVOCATION_REQ -> done(followUps.revocation(msg, ctx));
        case PKIBody.TYPE_GEN_MSG -> done(generalMessages.genm(msg, ctx));
        default -> throw new CaException(ErrorCode.UNSUPPORTED_MESSAGE, "CMP body type " + CmpBodies.name(type)
            + " is not supported by this CA");
      };
    } catch (CaException | RuntimeException | StackOverflowError e) {
      answer = java.util.concurrent.CompletableFuture.failedFuture(e); // the replay record below is stored still
    }
    // after the body: the replay record if nothing stored it, then the answer's protection (a signature in the HSM),
    // on the thread that completed the body (the caller's, or one of ctx.after's after a commit)
    return answer.handle((b, failure) -> org.keyarc.ca.support.Futures.inStage(() -> {
      if (failure != null) {
        Throwable cause = org.keyarc.ca.support.Futures.cause(failure);
        if (cause instanceof CaException e) {
          if (e.code() == ErrorCode.REPLAYED) { // a copy of this message was stored meanwhile: this one rolled back
            auditReplay(ctx, type, ctx.replay == null ? "?" : ctx.replay.senderNonce());
            throw e;
          }
          rememberIfNotStored(ctx, type, e);
          throw e;
        }
        if (!(cause instanceof OutOfMemoryError) && !(cause instanceof java.util.concurrent.RejectedExecutionException)) {
          try { // a malformed body or a fault of the node: its pair is remembered all the same
            rememberIfNotStored(ctx, type, null);
          } catch (CaException e) {
            if (e.code() == ErrorCode.REPLAYED) {
              throw e;
            }
            cause.addSuppressed(e);
          }
        }
        throw failure instanceof java.util.concurrent.CompletionException c ? c
            : new java.util.concurrent.CompletionException(cause);
      }
      rememberIfNotStored(ctx, type, null);
      return protect(ctx, b, ctx.implicitConfirmGranted);
    }));
  }

  private static java.util.concurrent.CompletableFuture<PKIBody> done(PKIBody body) {
    return java.util.concurrent.CompletableFuture.completedFuture(body);
  }

  /**
   * A request whose replay record was left for its unit of work, but which stored nothing (refused, or held with no
   * unit): the record is stored now, before the answer. A replay found here refuses it; a store failure while
   * another refusal is on its way is added to it.
   */
  private void rememberIfNotStored(CmpContext ctx, int type, CaException refusal) throws CaException {
    if (ctx.replay == null || ctx.replayStored) {
      return;
    }
    try {
      replays.remember(ctx.replay);
      ctx.replayStored = true;
    } catch (CaException e) {
      if (e.code() == ErrorCode.REPLAYED) {
        auditReplay(ctx, type, ctx.replay.senderNonce());
        throw e;
      }
      if (refusal == null) {
        throw e;
      }
      refusal.addSuppressed(e);
    }
  }

  /**
   * The version, a transactionID of {@value #MIN_ID}..{@value #MAX_ID} bytes, a messageTime (required for a
   * protected request) within the skew of the CA's clock, and for a protected request a senderNonce of
   * {@value #MIN_ID}..{@value #MAX_ID} bytes. Returns the messageTime (null when there is none).
   */
  private Instant checkHeader(PKIHeader h, boolean protectedRequest) throws CaException {
    int pvno = h.getPvno().intValueExact();
    if (pvno != PKIHeader.CMP_2000 && pvno != 3) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "CMP version " + pvno + " is not supported (2 or 3)");
    }
    int txLength = h.getTransactionID() == null ? 0 : h.getTransactionID().getOctets().length;
    if (txLength < MIN_ID || txLength > MAX_ID) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the request has no transactionID of " + MIN_ID + ".." + MAX_ID
          + " bytes");
    }
    if (protectedRequest) {
      int nonceLength = h.getSenderNonce() == null ? 0 : h.getSenderNonce().getOctets().length;
      if (nonceLength < MIN_ID || nonceLength > MAX_ID) {
        throw new CaException(ErrorCode.BAD_MESSAGE, "a protected request must carry a senderNonce of " + MIN_ID
            + ".." + MAX_ID + " bytes");
      }
      if (h.getMessageTime() == null) {
        throw new CaException(ErrorCode.BAD_TIME, "a protected request must carry a messageTime (it dates the "
            + "request, so that it cannot be replayed later)");
      }
    }
    if (h.getMessageTime() == null) {
      return null;
    }
    try {
      Instant t = h.getMessageTime().getDate().toInstant();
      long skew = Math.abs(Duration.between(t, clock.instant()).toSeconds());
      if (skew > messageTimeSkewSeconds) {
        throw new CaException(ErrorCode.BAD_TIME, "the message time is " + skew + " s away from the CA's clock "
            + "(at most " + messageTimeSkewSeconds + " s)");
      }
      return t;
    } catch (java.text.ParseException e) {
      throw new CaException(ErrorCode.BAD_MESSAGE, "the message time cannot be read");
    }
  }

  /**
   * Refuses a protected request whose (transactionID, senderNonce) was seen before: a replay, audited. A request for
   * one certificate (ir, cr, kur with one CertReqMsg) is checked by a read, and its record goes into the unit of work
   * that issues or holds it (one commit, not two); any other request's record is stored now, before it does anything
   * (a message with several certificates issues several units, and each must see its record first).
   */
  private void fresh(PKIMessage msg, CmpContext ctx, int type, Instant messageTime) throws CaException {
    String nonce = HexFormat.of().formatHex(msg.getHeader().getSenderNonce().getOctets());
    try {
      if (oneCertificate(msg, type)) {
        ctx.replay = replays.check(ctx.transactionId, nonce, messageTime);
      } else {
        replays.remember(ctx.transactionId, nonce, messageTime);
      }
    } catch (CaException e) {
      if (e.code() == ErrorCode.REPLAYED) {
        auditReplay(ctx, type, nonce);
      }
      throw e;
    }
  }

  private static boolean oneCertificate(PKIMessage msg, int type) {
    if (type != PKIBody.TYPE_INIT_REQ && type != PKIBody.TYPE_CERT_REQ && type != PKIBody.TYPE_KEY_UPDATE_REQ) {
      return false;
    }
    try {
      return org.bouncycastle.asn1.crmf.CertReqMessages.getInstance(msg.getBody().getContent()).toCertReqMsgArray()
          .length == 1;
    } catch (RuntimeException e) {
      return false; // malformed: stored first, refused later
    }
  }

  private void auditReplay(CmpContext ctx, int type, String nonce) throws CaException {
    String who = ctx.identity == null ? "?" : ctx.identity.actor();
    ctx.secret = null;
    failures.record(AuditAction.AUTH_REPLAY, ctx.peer, who, null, "body=" + CmpBodies.name(type)
        + " transaction=" + ctx.transactionId + " senderNonce=" + nonce);
  }

  // ------------------------------------------------------------------ answers

  /**
   * The answer protected: MAC with the request's secret when it was MAC-authenticated, otherwise signed with the
   * current CMP responder key (sender its subject, senderKID its key identifier, extraCerts its certificate and
   * the CA certificate).
   */
  private PKIMessage protect(CmpContext ctx, PKIBody body, boolean implicitConfirmGranted) throws CaException {
    try {
      if (ctx.secret != null) {
        ProtectedPKIMessageBuilder b = CmpHeaders.answer(new GeneralName(keys.caName()), ctx.header).setBody(body);
        if (implicitConfirmGranted) {
          CmpHeaders.addImplicitConfirm(b);
        }
        b.setSenderKID(ctx.secret.record().reference().getBytes(StandardCharsets.UTF_8));
        return b.build(CmpMac.calculator(ctx.macKind, ctx.secret.secret())).toASN1Structure();
      }
      CaKeyring.Responder r = keys.currentResponder(clock.instant()).orElseThrow(() -> new CaException(
          ErrorCode.CA_NOT_INITIALISED, "the CA has no valid CMP responder certificate (the node makes one at "
          + "start and renews it hourly)"));
      ProtectedPKIMessageBuilder b = CmpHeaders.answer(new GeneralName(r.cert().getSubject()), ctx.header)
          .setBody(body);
      if (implicitConfirmGranted) {
        CmpHeaders.addImplicitConfirm(b);
      }
      Extension ski = r.cert().getExtension(Extension.subjectKeyIdentifier);
      if (ski != null) {
        b.setSenderKID(SubjectKeyIdentifier.getInstance(ski.getParsedValue()).getKeyIdentifier());
      }
      b.addCMPCertificate(r.cert());
      // above it: the CA certificate of the key that certified it, or after a rollover that key certified by the one
      // before (NewWithOld, RFC 4210 4.4), so that a client still trusting the old CA certificate builds the path
      for (org.bouncycastle.cert.X509CertificateHolder c : keys.certsAbove(keys.generation(r.generation())
          .orElse(keys.current()))) {
        b.addCMPCertificate(c);
      }
      return b.build(keys.responderSigner(r)).toASN1Structure();
    } catch (CmpProtectionException e) {
      throw refusal(e);
    } catch (CMPException e) {
      throw new IllegalStateException("cannot protect the answer: " + e.getMessage(), e);
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the CA cannot sign its answer: " + e.getMessage(), e);
    }
  }

  /**
   * An error answer outside any request (a frame the transport could not read): unprotected, with a fresh
   * transaction id.
   */
  public byte[] transportError(ErrorCode code, String message) {
    return errorAnswer(new CmpContext(), code, message);
  }

  /**
   * An error message: to an authenticated sender MAC-protected with its secret or signed with the responder key;
   * to anyone else (and when protection fails) unprotected.
   */
  private byte[] errorAnswer(CmpContext ctx, ErrorCode code, String message) {
    PKIStatusInfo status = KeyarcCmp.rejection(code, message);
    PKIBody body = new PKIBody(PKIBody.TYPE_ERROR, new ErrorMsgContent(status, new ASN1Integer(code.number()),
        new PKIFreeText(message)));
    if (ctx.authenticated) {
      try {
        return protect(ctx, body, false).getEncoded();
      } catch (CaException | IOException | RuntimeException e) {
        // the HSM cannot sign: send the error unprotected rather than nothing
        LOG.warn("error answer sent unprotected: {}", e.getMessage());
      }
    }
    try {
      return new PKIMessage(CmpHeaders.unprotectedAnswer(new GeneralName(keys.caName()), ctx.header).build(), body)
          .getEncoded();
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
