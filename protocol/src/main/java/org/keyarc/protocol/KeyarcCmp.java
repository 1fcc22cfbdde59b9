package org.keyarc.protocol;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;

/**
 * What keyarc adds on top of standard CMP: the error text convention that carries an {@link ErrorCode}
 * number, and the infoType of the administrative genm/genp exchange.
 */
public final class KeyarcCmp {
  private KeyarcCmp() {}

  /**
   * keyarc's own OID arc, a UUID OID (ITU-T X.667) so that it needs no registration:
   * 2.25.187625993275154177187960695602318336211 (UUID 8d2773ae-5e54-4892-9c28-04b5f622e0d3).
   */
  public static final ASN1ObjectIdentifier ARC = new ASN1ObjectIdentifier("2.25.187625993275154177187960695602318336211");
  /**
   * infoType of an administrative request in a signature-protected genm, and of its answer in the genp:
   * the value is a UTF8String holding a JSON object ({@code {"op": "request.approve", "id": 7}}).
   */
  public static final ASN1ObjectIdentifier ADMIN = ARC.branch("1");
  /** Content type of a CA-signed archive record (the recovery blob of {@code keyarc getkey}). */
  public static final ASN1ObjectIdentifier ARCHIVE_RECORD = ARC.branch("2");
  /**
   * PKCS#10 attribute type of a recovery agent's card evidence ({@link CardEvidence}): what its client read
   * from the card when it made the agent's key. Evidence, not proof.
   */
  public static final ASN1ObjectIdentifier CARD_EVIDENCE = ARC.branch("3");
  /**
   * Content type of a CA-signed ceremony order ({@code archive.CeremonyOrder}): what an agent rotation or a
   * recoverability drill asks of the agents.
   */
  public static final ASN1ObjectIdentifier CEREMONY_ORDER = ARC.branch("4");

  private static final Pattern CODE = Pattern.compile("^\\[keyarc (\\d+)\\] ");

  /** A rejection carrying the code's failure bit and the text "[keyarc N] message". */
  public static PKIStatusInfo rejection(ErrorCode code, String message) {
    return new PKIStatusInfo(PKIStatus.rejection, new PKIFreeText(text(code, message)),
        new PKIFailureInfo(code.failureInfo()));
  }

  /** The text form "[keyarc N] message". */
  public static String text(ErrorCode code, String message) {
    return "[keyarc " + code.number() + "] " + message;
  }

  /** The error code in a status text, or null when the text is not keyarc's. */
  public static ErrorCode codeOf(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = CODE.matcher(text);
    if (!m.find()) {
      return null;
    }
    try {
      return ErrorCode.ofNumber(Integer.parseInt(m.group(1)));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The text without its "[keyarc N] " prefix. */
  public static String messageOf(String text) {
    return text == null ? "" : CODE.matcher(text).replaceFirst("");
  }

  /** All the free text of a status, joined. */
  public static String text(PKIStatusInfo status) {
    PKIFreeText t = status.getStatusString();
    if (t == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < t.size(); i++) {
      b.append(i == 0 ? "" : "; ").append(t.getStringAtUTF8(i).getString());
    }
    return b.toString();
  }
}
