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
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.admin.AdminApi;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.issue.Enrollment;
import org.keyarc.ca.issue.RequestPolicy;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.ca.support.Texts;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
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
 * secret; all other answers are signed with the CA key.
 *
 * <p>This class parses, checks the header, dispatches and protects the answer; {@link CmpAuthenticator}
 * establishes the sender, {@link CertRequests} handles ir/cr/kur/p10cr, {@link FollowUps}
 * certConf/pollReq/rr and {@link GeneralMessages} genm.
 */
public final class CmpResponder {
  private static final Logger LOG = LoggerFactory.getLogger(CmpResponder.class);

  /** At most this many CertReqMsg in one ir/cr (see {@link CertRequests#MAX_CERT_REQUESTS}). */
  public static final int MAX_CERT_REQUESTS = CertRequests.MAX_CERT_REQUESTS;

  private final IdentityService identities;
  private final CmpAuthenticator authenticator;
  private final CertRequests certRequests;
  private final FollowUps followUps;
  private final GeneralMessages generalMessages;
  private final CaKeyring keys;
  private final Clock clock;
  private final long messageTimeSkewSeconds;
  private final MeterRegistry metrics;

  /** {@code metrics} may be null; {@code messageTimeSkewSeconds} bounds a request's messageTime. */
  public CmpResponder(IdentityService identities, SecretService secrets, Enrollment enrollment, RequestPolicy policy,
      RevocationService revocation, CrlService crls, CaKeyring keys, AdminApi admin, Clock clock,
      long messageTimeSkewSeconds, MeterRegistry metrics) {
    this.identities = identities;
    this.authenticator = new CmpAuthenticator(identities, secrets);
    this.certRequests = new CertRequests(enrollment, policy, keys);
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

  /** Answers one request. {@code tlsClient} is the TLS client certificate, if any. */
  public byte[] handle(byte[] der, X509CertificateHolder tlsClient) {
    long start = System.nanoTime();
    CmpContext ctx = new CmpContext();
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
      body = CmpBodies.name(msg.getBody().getType());
      ctx.operation = body;
      PKIMessage answer = dispatch(msg, ctx, tlsClient);
      outcome = answer.getBody().getType() == PKIBody.TYPE_ERROR ? "refused" : "ok";
      for (CaException refused : ctx.refusals) {
        identities.auditRefusal(ctx.identity, ctx.operation, refused);
      }
      return answer.getEncoded();
    } catch (CaException e) {
      outcome = "refused";
      LOG.info("{} refused: {} ({})", body, e.getMessage(), e.code());
      // every authorisation refusal is audited here, with the actor and the operation (NIAP FAU_GEN.1)
      identities.auditRefusal(ctx.identity, ctx.operation, e);
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

  private PKIMessage dispatch(PKIMessage msg, CmpContext ctx, X509CertificateHolder tlsClient) throws CaException {
    checkHeader(msg.getHeader());
    int type = msg.getBody().getType();
    authenticator.authenticate(msg, ctx, type, tlsClient);
    PKIBody answer = switch (type) {
      case PKIBody.TYPE_INIT_REQ, PKIBody.TYPE_CERT_REQ, PKIBody.TYPE_KEY_UPDATE_REQ ->
          certRequests.certRequest(msg, ctx, type);
      case PKIBody.TYPE_P10_CERT_REQ -> certRequests.p10(msg, ctx);
      case PKIBody.TYPE_CERT_CONFIRM -> followUps.certConf(msg, ctx);
      case PKIBody.TYPE_POLL_REQ -> followUps.pollReq(msg, ctx);
      case PKIBody.TYPE_REVOCATION_REQ -> followUps.revocation(msg, ctx);
      case PKIBody.TYPE_GEN_MSG -> generalMessages.genm(msg, ctx);
      default -> throw new CaException(ErrorCode.UNSUPPORTED_MESSAGE, "CMP body type " + CmpBodies.name(type)
          + " is not supported by this CA");
    };
    return protect(ctx, answer, ctx.implicitConfirmGranted);
  }

  /** The version, a transactionID of at least 8 bytes, and a messageTime (if any) near the CA's clock. */
  private void checkHeader(PKIHeader h) throws CaException {
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
  }

  // ------------------------------------------------------------------ answers

  private PKIMessage protect(CmpContext ctx, PKIBody body, boolean implicitConfirmGranted) throws CaException {
    ProtectedPKIMessageBuilder b = CmpHeaders.answer(new GeneralName(keys.caName()), ctx.header).setBody(body);
    if (implicitConfirmGranted) {
      CmpHeaders.addImplicitConfirm(b);
    }
    try {
      if (ctx.secret != null) {
        b.setSenderKID(ctx.secret.record().reference().getBytes(StandardCharsets.UTF_8));
        return b.build(CmpMac.calculator(ctx.macKind, ctx.secret.secret())).toASN1Structure();
      }
      b.addCMPCertificate(keys.caCert());
      return b.build(keys.caSigner()).toASN1Structure();
    } catch (CmpProtectionException e) {
      throw refusal(e);
    } catch (CMPException e) {
      throw new IllegalStateException("cannot protect the answer: " + e.getMessage(), e);
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the CA cannot sign its answer: " + e.getMessage(), e);
    }
  }

  /**
   * An error answer outside any request (a frame the transport could not read): signed with the CA
   * key, with a fresh transaction id.
   */
  public byte[] transportError(ErrorCode code, String message) {
    return errorAnswer(new CmpContext(), code, message);
  }

  /** An error message; MAC-protected when the secret was verified, otherwise signed with the CA key. */
  private byte[] errorAnswer(CmpContext ctx, ErrorCode code, String message) {
    PKIStatusInfo status = KeyarcCmp.rejection(code, message);
    PKIBody body = new PKIBody(PKIBody.TYPE_ERROR, new ErrorMsgContent(status, new ASN1Integer(code.number()),
        new PKIFreeText(message)));
    try {
      return protect(ctx, body, false).getEncoded();
    } catch (CaException | IOException | RuntimeException e) {
      // the HSM cannot sign: send the error unprotected rather than nothing
      LOG.warn("error answer sent unprotected: {}", e.getMessage());
      try {
        return new PKIMessage(CmpHeaders.unprotectedAnswer(new GeneralName(keys.caName()), ctx.header).build(), body)
            .getEncoded();
      } catch (IOException ex) {
        throw new IllegalStateException(ex);
      }
    }
  }
}
