package org.keyarc.protocol.cmp;

import org.bouncycastle.asn1.cmp.PKIBody;

/**
 * The PKIBody types keyarc speaks, by their RFC 9810 names ("ir", "certConf", "genp", ...): for logs,
 * metrics, stored requests and error texts.
 */
public final class CmpBodies {
  private static final int[] NAMED = {
      PKIBody.TYPE_INIT_REQ, PKIBody.TYPE_INIT_REP, PKIBody.TYPE_CERT_REQ, PKIBody.TYPE_CERT_REP,
      PKIBody.TYPE_P10_CERT_REQ, PKIBody.TYPE_KEY_UPDATE_REQ, PKIBody.TYPE_KEY_UPDATE_REP,
      PKIBody.TYPE_REVOCATION_REQ, PKIBody.TYPE_REVOCATION_REP, PKIBody.TYPE_CONFIRM, PKIBody.TYPE_GEN_MSG,
      PKIBody.TYPE_GEN_REP, PKIBody.TYPE_ERROR, PKIBody.TYPE_CERT_CONFIRM, PKIBody.TYPE_POLL_REQ,
      PKIBody.TYPE_POLL_REP};

  private CmpBodies() {}

  /** The name of a body type; {@code "type" + type} for a type keyarc does not speak. */
  public static String name(int type) {
    return switch (type) {
      case PKIBody.TYPE_INIT_REQ -> "ir";
      case PKIBody.TYPE_INIT_REP -> "ip";
      case PKIBody.TYPE_CERT_REQ -> "cr";
      case PKIBody.TYPE_CERT_REP -> "cp";
      case PKIBody.TYPE_P10_CERT_REQ -> "p10cr";
      case PKIBody.TYPE_KEY_UPDATE_REQ -> "kur";
      case PKIBody.TYPE_KEY_UPDATE_REP -> "kup";
      case PKIBody.TYPE_REVOCATION_REQ -> "rr";
      case PKIBody.TYPE_REVOCATION_REP -> "rp";
      case PKIBody.TYPE_CONFIRM -> "pkiconf";
      case PKIBody.TYPE_GEN_MSG -> "genm";
      case PKIBody.TYPE_GEN_REP -> "genp";
      case PKIBody.TYPE_ERROR -> "error";
      case PKIBody.TYPE_CERT_CONFIRM -> "certConf";
      case PKIBody.TYPE_POLL_REQ -> "pollReq";
      case PKIBody.TYPE_POLL_REP -> "pollRep";
      default -> "type" + type;
    };
  }

  /**
   * The body type of a name {@link #name} gives.
   *
   * @throws IllegalArgumentException for a name of a type keyarc does not speak
   */
  public static int type(String name) {
    for (int t : NAMED) {
      if (name(t).equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown CMP body type name '" + name + "'");
  }

  /**
   * The body type that answers a request of this type when all goes well: ir → ip, cr and p10cr → cp,
   * kur → kup, rr → rp, genm → genp, certConf → pkiconf, pollReq → pollRep (a poll that finds the
   * request decided is answered with the request's own answer type instead). Any request may also be
   * answered with error.
   *
   * @throws IllegalArgumentException for a type that is not a request keyarc speaks
   */
  public static int responseType(int requestType) {
    return switch (requestType) {
      case PKIBody.TYPE_INIT_REQ -> PKIBody.TYPE_INIT_REP;
      case PKIBody.TYPE_CERT_REQ, PKIBody.TYPE_P10_CERT_REQ -> PKIBody.TYPE_CERT_REP;
      case PKIBody.TYPE_KEY_UPDATE_REQ -> PKIBody.TYPE_KEY_UPDATE_REP;
      case PKIBody.TYPE_REVOCATION_REQ -> PKIBody.TYPE_REVOCATION_REP;
      case PKIBody.TYPE_GEN_MSG -> PKIBody.TYPE_GEN_REP;
      case PKIBody.TYPE_CERT_CONFIRM -> PKIBody.TYPE_CONFIRM;
      case PKIBody.TYPE_POLL_REQ -> PKIBody.TYPE_POLL_REP;
      default -> throw new IllegalArgumentException("CMP body type " + name(requestType) + " is not a request");
    };
  }
}
