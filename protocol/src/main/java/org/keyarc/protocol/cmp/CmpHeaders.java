package org.keyarc.protocol.cmp;

import java.security.SecureRandom;
import java.util.Date;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIHeaderBuilder;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.keyarc.protocol.ErrorCode;

/**
 * The PKIHeader of a request or an answer as both sides build it (CMP 2000, messageTime now, a fresh
 * {@value #NONCE_LENGTH}-byte senderNonce, the transactionID, the recipNonce), and the generalInfo entries
 * keyarc uses: implicitConfirm and certProfile. Protection (senderKID, extraCerts, the MAC or signature)
 * is the caller's.
 */
public final class CmpHeaders {
  /** Length of the nonces and fresh transaction IDs this side makes. */
  public static final int NONCE_LENGTH = 16;
  /** id-it-implicitConfirm (RFC 9810): the sender asks (request) or grants (answer) no certConf. */
  public static final ASN1ObjectIdentifier IMPLICIT_CONFIRM = CMPObjectIdentifiers.it_implicitConfirm;
  /** id-it-certProfile (RFC 9480): names the template; a SEQUENCE of UTF8String. */
  public static final ASN1ObjectIdentifier CERT_PROFILE = CMPObjectIdentifiers.id_it_certProfile;

  private static final SecureRandom RANDOM = new SecureRandom();

  private CmpHeaders() {}

  /** {@value #NONCE_LENGTH} fresh random bytes: a senderNonce or a transactionID. */
  public static byte[] nonce() {
    byte[] b = new byte[NONCE_LENGTH];
    RANDOM.nextBytes(b);
    return b;
  }

  /** The empty directory name, for a sender or recipient this side cannot name. */
  public static GeneralName noName() {
    return new GeneralName(new X500Name(""));
  }

  /**
   * A request's header: messageTime now, {@code transactionId} (null: a fresh one), {@code senderNonce}
   * (null: a fresh one; pass your own {@link #nonce()} to check that the answer echoes it) and {@code
   * recipNonce} (null: none; the previous answer's senderNonce when the transaction goes on).
   */
  public static ProtectedPKIMessageBuilder request(GeneralName sender, GeneralName recipient, byte[] transactionId,
      byte[] senderNonce, byte[] recipNonce) {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(sender, recipient)
        .setTransactionID(transactionId != null ? transactionId : nonce())
        .setSenderNonce(senderNonce != null ? senderNonce : nonce())
        .setMessageTime(new Date());
    if (recipNonce != null) {
      b.setRecipNonce(recipNonce);
    }
    return b;
  }

  /**
   * An answer's header from {@code sender}: the recipient is the request's sender, messageTime now, a
   * fresh senderNonce, the request's transactionID (a fresh one if it has none), and the request's
   * senderNonce as recipNonce. {@code request} may be null (no request could be read): recipient
   * {@link #noName()}, fresh transactionID, no recipNonce.
   */
  public static ProtectedPKIMessageBuilder answer(GeneralName sender, PKIHeader request) {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(sender, recipientOf(request))
        .setMessageTime(new Date()).setSenderNonce(nonce());
    byte[] tx = transactionId(request);
    b.setTransactionID(tx != null ? tx : nonce());
    byte[] recipNonce = senderNonce(request);
    if (recipNonce != null) {
      b.setRecipNonce(recipNonce);
    }
    return b;
  }

  /**
   * The header of an unprotected request (Bouncy Castle's message builder always protects): the same
   * fields as {@link #request}, without generalInfo.
   */
  public static PKIHeaderBuilder unprotectedRequest(GeneralName sender, GeneralName recipient, byte[] transactionId,
      byte[] senderNonce, byte[] recipNonce) {
    PKIHeaderBuilder h = new PKIHeaderBuilder(PKIHeader.CMP_2000, sender, recipient)
        .setTransactionID(transactionId != null ? transactionId : nonce())
        .setSenderNonce(senderNonce != null ? senderNonce : nonce())
        .setMessageTime(new ASN1GeneralizedTime(new Date()));
    if (recipNonce != null) {
      h.setRecipNonce(recipNonce);
    }
    return h;
  }

  /**
   * The header of an unprotected answer (an error to a sender that is not authenticated, or the last resort
   * when an answer cannot be protected): the fields of {@link #answer} without messageTime.
   */
  public static PKIHeaderBuilder unprotectedAnswer(GeneralName sender, PKIHeader request) {
    byte[] tx = transactionId(request);
    PKIHeaderBuilder h = new PKIHeaderBuilder(PKIHeader.CMP_2000, sender, recipientOf(request))
        .setSenderNonce(nonce()).setTransactionID(tx != null ? tx : nonce());
    byte[] recipNonce = senderNonce(request);
    if (recipNonce != null) {
      h.setRecipNonce(recipNonce);
    }
    return h;
  }

  private static GeneralName recipientOf(PKIHeader request) {
    return request != null ? request.getSender() : noName();
  }

  /** The header's transactionID, or null (also for a null header). */
  public static byte[] transactionId(PKIHeader h) {
    return h == null ? null : octets(h.getTransactionID());
  }

  /** The header's senderNonce, or null (also for a null header). */
  public static byte[] senderNonce(PKIHeader h) {
    return h == null ? null : octets(h.getSenderNonce());
  }

  /** The header's recipNonce, or null (also for a null header). */
  public static byte[] recipNonce(PKIHeader h) {
    return h == null ? null : octets(h.getRecipNonce());
  }

  private static byte[] octets(ASN1OctetString s) {
    return s == null ? null : s.getOctets();
  }

  // ------------------------------------------------------------------ generalInfo

  /** The generalInfo entry implicitConfirm (value NULL). */
  public static InfoTypeAndValue implicitConfirmInfo() {
    return new InfoTypeAndValue(IMPLICIT_CONFIRM, DERNull.INSTANCE);
  }

  /** Adds implicitConfirm to the header's generalInfo; returns {@code b}. */
  public static ProtectedPKIMessageBuilder addImplicitConfirm(ProtectedPKIMessageBuilder b) {
    return b.addGeneralInfo(implicitConfirmInfo());
  }

  /** True when the header's generalInfo holds implicitConfirm. */
  public static boolean implicitConfirm(PKIHeader h) {
    InfoTypeAndValue[] gi = h.getGeneralInfo();
    if (gi != null) {
      for (InfoTypeAndValue i : gi) {
        if (i.getInfoType().equals(IMPLICIT_CONFIRM)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The generalInfo entry certProfile naming {@code profile} (a SEQUENCE of one UTF8String). */
  public static InfoTypeAndValue certProfileInfo(String profile) {
    return new InfoTypeAndValue(CERT_PROFILE, new DERSequence(new DERUTF8String(profile)));
  }

  /** Adds certProfile {@code profile} to the header's generalInfo; returns {@code b}. */
  public static ProtectedPKIMessageBuilder addCertProfile(ProtectedPKIMessageBuilder b, String profile) {
    return b.addGeneralInfo(certProfileInfo(profile));
  }

  /**
   * The first profile name of the header's certProfile, or null when there is none.
   *
   * @throws CmpProtectionException {@link ErrorCode#BAD_MESSAGE} when certProfile is not a SEQUENCE of
   *     UTF8String
   */
  public static String certProfile(PKIHeader h) throws CmpProtectionException {
    InfoTypeAndValue[] gi = h.getGeneralInfo();
    if (gi == null) {
      return null;
    }
    for (InfoTypeAndValue i : gi) {
      if (i.getInfoType().equals(CERT_PROFILE)) {
        try {
          ASN1Sequence s = ASN1Sequence.getInstance(i.getInfoValue());
          return DERUTF8String.getInstance(s.getObjectAt(0)).getString();
        } catch (RuntimeException e) {
          throw new CmpProtectionException(ErrorCode.BAD_MESSAGE, "certProfile must be a SEQUENCE of UTF8String");
        }
      }
    }
    return null;
  }
}
