package org.keyarc.protocol;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyAttributes;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.TokenDescription;

/**
 * What a recovery agent's client read from its card when it made the agent's key ({@code keyarc kra
 * init-card}): the token's label, serial, manufacturer and model, and the key's security attributes as the
 * card reports them. It travels as a PKCS#10 attribute of type {@link KeyarcCmp#CARD_EVIDENCE}, inside the
 * request the key itself signs, and the CA keeps it with the request.
 *
 * <p>It is <b>evidence, not proof</b>: a client that wants to lie can write any values (nothing here is
 * signed by the card's manufacturer). It makes an honest mistake visible (a key made in software has no
 * evidence, or evidence that says CKA_EXTRACTABLE=true) and it puts the agent's claim on record; {@code kra
 * add} shows it and refuses a certificate without it unless the administrator says otherwise.
 *
 * <pre>
 * CardEvidence ::= SEQUENCE {
 *   version       INTEGER (1),
 *   tokenLabel    UTF8String (SIZE (0..64)),
 *   tokenSerial   UTF8String (SIZE (0..64)),
 *   manufacturer  UTF8String (SIZE (0..64)),
 *   model         UTF8String (SIZE (0..64)),
 *   keyLabel      UTF8String (SIZE (0..128)),
 *   attributes    SEQUENCE {                      -- absent: the card did not report the attribute
 *     sensitive         [0] IMPLICIT BOOLEAN OPTIONAL,   -- CKA_SENSITIVE
 *     extractable       [1] IMPLICIT BOOLEAN OPTIONAL,   -- CKA_EXTRACTABLE
 *     alwaysSensitive   [2] IMPLICIT BOOLEAN OPTIONAL,   -- CKA_ALWAYS_SENSITIVE
 *     neverExtractable  [3] IMPLICIT BOOLEAN OPTIONAL,   -- CKA_NEVER_EXTRACTABLE
 *     local             [4] IMPLICIT BOOLEAN OPTIONAL,   -- CKA_LOCAL: generated on the card
 *     oaepSha256        [5] IMPLICIT BOOLEAN OPTIONAL } } -- the card decrypted RSA-OAEP with SHA-256 (a trial)
 * </pre>
 */
public record CardEvidence(String tokenLabel, String tokenSerial, String manufacturer, String model,
    String keyLabel, Boolean sensitive, Boolean extractable, Boolean alwaysSensitive, Boolean neverExtractable,
    Boolean local, Boolean oaepSha256) {
  public static final int VERSION = 1;

  /** Evidence without the OAEP trial (read by an older client). */
  public CardEvidence(String tokenLabel, String tokenSerial, String manufacturer, String model, String keyLabel,
      Boolean sensitive, Boolean extractable, Boolean alwaysSensitive, Boolean neverExtractable, Boolean local) {
    this(tokenLabel, tokenSerial, manufacturer, model, keyLabel, sensitive, extractable, alwaysSensitive,
        neverExtractable, local, null);
  }
  /** The longest token text field accepted (PKCS#11 gives at most 32 characters). */
  public static final int MAX_TOKEN_FIELD = 64;
  /** The longest key label accepted. */
  public static final int MAX_KEY_LABEL = 128;
  /** The largest encoding accepted. */
  public static final int MAX_ENCODED = 1024;

  /**
   * Reads the evidence of {@code privateKey} from the card it lives on, and tries whether the card decrypts RSA-OAEP
   * with SHA-256 (a random secret encrypted to the key here; not tried when raw RSA decoding is allowed, which would
   * answer for the card).
   */
  public static CardEvidence read(HsmToken token, KeyHandle privateKey) throws HsmException {
    TokenDescription d = token.description();
    KeyAttributes a = token.call(s -> s.attributes(privateKey));
    Boolean sha256 = null;
    if (!token.rawRsaOaep()) {
      java.security.PublicKey pub = token.call(s -> s.publicKey(privateKey));
      byte[] secret = new byte[32];
      new java.security.SecureRandom().nextBytes(secret);
      byte[] sent = org.keyarc.hsm.HsmSession.softwareOaep(pub, org.keyarc.hsm.OaepHash.SHA256, secret);
      try {
        sha256 = java.security.MessageDigest.isEqual(secret, token.call(s -> s.decryptOaep(privateKey,
            org.keyarc.hsm.OaepHash.SHA256, sent)));
      } catch (HsmException e) {
        sha256 = false; // SoftHSM2 and many cards: OAEP with SHA-1 only
      }
    }
    return new CardEvidence(d.label(), d.serial(), d.manufacturer(), d.model(), privateKey.label(), a.sensitive(),
        a.extractable(), a.alwaysSensitive(), a.neverExtractable(), a.local(), sha256);
  }

  /**
   * True when the card says what an agent's key must be: sensitive and always was, not extractable and never
   * was, generated on the card.
   */
  public boolean showsCardKey() {
    return problems().isEmpty();
  }

  /** What the evidence does not show, for messages ("CKA_LOCAL not reported"); empty when it shows a card key. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    expect(p, "CKA_SENSITIVE", sensitive, true);
    expect(p, "CKA_EXTRACTABLE", extractable, false);
    expect(p, "CKA_ALWAYS_SENSITIVE", alwaysSensitive, true);
    expect(p, "CKA_NEVER_EXTRACTABLE", neverExtractable, true);
    expect(p, "CKA_LOCAL", local, true);
    return p;
  }

  private static void expect(List<String> out, String name, Boolean value, boolean wanted) {
    if (value == null) {
      out.add(name + " not reported");
    } else if (value != wanted) {
      out.add(name + "=" + value);
    }
  }

  /** One line: "card 'kra-1' serial 1a2b, SoftHSM project SoftHSM v2, key 'kra-key': CKA_SENSITIVE=true ...". */
  public String summary() {
    return "card '" + tokenLabel + "' serial " + tokenSerial + ", " + manufacturer + " " + model + ", key '"
        + keyLabel + "': CKA_SENSITIVE=" + sensitive + " CKA_EXTRACTABLE=" + extractable + " CKA_ALWAYS_SENSITIVE="
        + alwaysSensitive + " CKA_NEVER_EXTRACTABLE=" + neverExtractable + " CKA_LOCAL=" + local
        + (oaepSha256 == null ? "" : ", RSA-OAEP SHA-256 " + (oaepSha256 ? "decrypts" : "not offered"));
  }

  /** The DER encoding. */
  public byte[] encoded() {
    ASN1EncodableVector attrs = new ASN1EncodableVector();
    Boolean[] values = {sensitive, extractable, alwaysSensitive, neverExtractable, local, oaepSha256};
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        attrs.add(new DERTaggedObject(false, i, ASN1Boolean.getInstance(values[i].booleanValue())));
      }
    }
    try {
      return new DERSequence(new ASN1Encodable[] {new ASN1Integer(VERSION), utf8(tokenLabel), utf8(tokenSerial),
          utf8(manufacturer), utf8(model), utf8(keyLabel), new DERSequence(attrs)}).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The PKCS#10 attribute that carries it. */
  public Attribute attribute() {
    return new Attribute(KeyarcCmp.CARD_EVIDENCE, new DERSet(ASN1Sequence.getInstance(encoded())));
  }

  /**
   * The CRMF regInfo entry that carries it (a request whose key never signs: the evidence is covered by the
   * message's protection, not by the key).
   */
  public org.bouncycastle.asn1.crmf.AttributeTypeAndValue regInfo() {
    return new org.bouncycastle.asn1.crmf.AttributeTypeAndValue(KeyarcCmp.CARD_EVIDENCE,
        ASN1Sequence.getInstance(encoded()));
  }

  /** The evidence in a CRMF regInfo entry's value. */
  public static CardEvidence of(org.bouncycastle.asn1.crmf.AttributeTypeAndValue a) {
    if (!a.getType().equals(KeyarcCmp.CARD_EVIDENCE) || a.getValue() == null) {
      throw new IllegalArgumentException("the card evidence regInfo must hold one value");
    }
    try {
      return parse(a.getValue().toASN1Primitive().getEncoded("DER"));
    } catch (IOException e) {
      throw new IllegalArgumentException("the card evidence cannot be encoded", e);
    }
  }

  /** The evidence in a PKCS#10 attribute's value. */
  public static CardEvidence of(Attribute a) {
    if (!a.getAttrType().equals(KeyarcCmp.CARD_EVIDENCE) || a.getAttrValues().size() != 1) {
      throw new IllegalArgumentException("the card evidence attribute must hold one value");
    }
    try {
      return parse(a.getAttrValues().getObjectAt(0).toASN1Primitive().getEncoded("DER"));
    } catch (IOException e) {
      throw new IllegalArgumentException("the card evidence cannot be encoded", e);
    }
  }

  /** Parses the DER encoding; IllegalArgumentException names what is wrong. */
  public static CardEvidence parse(byte[] der) {
    if (der == null || der.length > MAX_ENCODED) {
      throw new IllegalArgumentException("the card evidence is larger than " + MAX_ENCODED + " bytes");
    }
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(der);
      if (s.size() != 7 || ASN1Integer.getInstance(s.getObjectAt(0)).intValueExact() != VERSION) {
        throw new IllegalArgumentException("the card evidence is not version " + VERSION + " with 7 fields");
      }
      Boolean[] values = new Boolean[6];
      for (ASN1Encodable e : ASN1Sequence.getInstance(s.getObjectAt(6))) {
        ASN1TaggedObject t = ASN1TaggedObject.getInstance(e);
        int tag = t.getTagNo();
        if (tag < 0 || tag >= values.length || values[tag] != null) {
          throw new IllegalArgumentException("the card evidence has an unknown or repeated attribute [" + tag + "]");
        }
        values[tag] = ASN1Boolean.getInstance(t, false).isTrue();
      }
      return new CardEvidence(text(s, 1, MAX_TOKEN_FIELD), text(s, 2, MAX_TOKEN_FIELD), text(s, 3, MAX_TOKEN_FIELD),
          text(s, 4, MAX_TOKEN_FIELD), text(s, 5, MAX_KEY_LABEL), values[0], values[1], values[2], values[3],
          values[4], values[5]);
    } catch (IllegalStateException | ArithmeticException | ClassCastException e) {
      throw new IllegalArgumentException("the card evidence is malformed: " + e.getMessage(), e);
    }
  }

  private static String text(ASN1Sequence s, int i, int max) {
    ASN1Encodable e = s.getObjectAt(i);
    if (!(e instanceof ASN1String str)) {
      throw new IllegalArgumentException("field " + i + " of the card evidence is not a string");
    }
    String v = str.getString();
    if (v.length() > max) {
      throw new IllegalArgumentException("field " + i + " of the card evidence is longer than " + max);
    }
    for (int k = 0; k < v.length(); k++) {
      if (Character.isISOControl(v.charAt(k))) {
        throw new IllegalArgumentException("field " + i + " of the card evidence holds a control character");
      }
    }
    return v;
  }

  private static DERUTF8String utf8(String v) {
    return new DERUTF8String(v == null ? "" : v);
  }
}
