package org.keyarc.ca.template;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/** Checks a request's subject and public key against a template; each refusal says why. */
public final class TemplateRules {
  private TemplateRules() {}

  /** Refuses a subject that lacks a required RDN, carries one not allowed, or is empty. */
  public static void checkSubject(Template t, X500Name subject) throws CaException {
    if (subject == null || subject.getRDNs().length == 0) {
      throw new CaException(ErrorCode.BAD_SUBJECT, "the request has an empty subject; template " + t.name()
          + " needs " + String.join(", ", t.requiredRdns()));
    }
    String text = subject.toString();
    if (text.length() > MAX_SUBJECT_CHARS || subject.getRDNs().length > MAX_SUBJECT_RDNS) {
      // bounded by the store's columns and the audit record: refused before any HSM work, never a store error
      throw new CaException(ErrorCode.BAD_SUBJECT, "the subject is too long (" + text.length() + " characters, "
          + subject.getRDNs().length + " RDNs; at most " + MAX_SUBJECT_CHARS + " and " + MAX_SUBJECT_RDNS + ")");
    }
    Set<String> present = new HashSet<>();
    for (RDN rdn : subject.getRDNs()) {
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        String name = shortName(atv.getType());
        if (!t.allowedRdns().contains(name)) {
          throw new CaException(ErrorCode.BAD_SUBJECT, "template " + t.name() + " does not allow " + name
              + " in the subject (allowed: " + String.join(", ", t.allowedRdns()) + ")");
        }
        String value = atv.getValue().toString();
        if (value.isBlank()) {
          throw new CaException(ErrorCode.BAD_SUBJECT, "subject attribute " + name + " is empty");
        }
        present.add(name);
      }
    }
    for (String required : t.requiredRdns()) {
      if (!present.contains(required)) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "template " + t.name() + " needs " + required
            + " in the subject");
      }
    }
  }

  /** The longest subject (as text) and the most RDNs a certificate request may carry. */
  public static final int MAX_SUBJECT_CHARS = 512;
  public static final int MAX_SUBJECT_RDNS = 16;

  /** The largest RSA modulus any template accepts: larger ones cost seconds of node CPU per signature check. */
  public static final int MAX_RSA_BITS = 8192;
  /** The largest RSA public exponent accepted (65537 is 17 bits; RFC 4055 and NIST SP 800-56B cap it too). */
  public static final int MAX_RSA_EXPONENT_BITS = 32;

  /**
   * Refuses a key type the template does not allow, an RSA modulus below its minimum or above
   * {@link #MAX_RSA_BITS}, an RSA exponent that is even, below 3 or over {@link #MAX_RSA_EXPONENT_BITS} bits, an EC
   * curve it does not list. Cheap (no signature is checked), so it can run before the proof of possession.
   */
  /**
   * The template as it applies to a key that proves possession by decrypting its certificate (RFC 4210 encrCert)
   * instead of signing: the key was never shown to sign, so the certificate carries only the template's encipherment
   * bits. Refused (BAD_POP) on a template whose keys must sign or that archives the key (whose request proves it by
   * signature), and for keys other than RSA (the certificate comes back in a KeyTransRecipientInfo).
   */
  public static Template forIndirectPop(Template t, SubjectPublicKeyInfo spki) throws CaException {
    if (!spki.getAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption)) {
      throw new CaException(ErrorCode.BAD_POP, "proof of possession by decrypting the certificate (encrCert) is for "
          + "RSA keys; sign the proof of possession with this key");
    }
    if ((t.keyUsage() & org.bouncycastle.asn1.x509.KeyUsage.keyEncipherment) == 0
        || (t.keyUsage() & (org.bouncycastle.asn1.x509.KeyUsage.keyCertSign
            | org.bouncycastle.asn1.x509.KeyUsage.cRLSign)) != 0) {
      throw new CaException(ErrorCode.BAD_POP, "the keys of template " + t.name() + " sign: prove possession with a "
          + "signature, not by decrypting the certificate (encrCert is for keys that only decrypt)");
    }
    if (t.archivePrivateKey()) {
      throw new CaException(ErrorCode.BAD_POP, "template " + t.name() + " archives the private key: its request proves "
          + "possession with a signature, not by decrypting the certificate");
    }
    return t.toBuilder().keyUsage(t.keyUsage() & (org.bouncycastle.asn1.x509.KeyUsage.keyEncipherment
        | org.bouncycastle.asn1.x509.KeyUsage.dataEncipherment)).build();
  }

  public static void checkKey(Template t, SubjectPublicKeyInfo spki) throws CaException {
    ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
    if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      if (t.rsaMinBits() <= 0) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "template " + t.name() + " does not accept RSA keys");
      }
      int bits;
      java.math.BigInteger e;
      try {
        RSAPublicKey k = RSAPublicKey.getInstance(spki.parsePublicKey());
        bits = k.getModulus().bitLength();
        e = k.getPublicExponent();
      } catch (IOException | IllegalArgumentException ex) {
        throw new CaException(ErrorCode.BAD_MESSAGE, "the RSA public key in the request cannot be parsed");
      }
      if (bits < t.rsaMinBits()) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "RSA key of " + bits + " bits is too small: template "
            + t.name() + " needs at least " + t.rsaMinBits());
      }
      if (bits > MAX_RSA_BITS) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "RSA key of " + bits + " bits is too large (at most "
            + MAX_RSA_BITS + ")");
      }
      if (!e.testBit(0) || e.compareTo(java.math.BigInteger.valueOf(3)) < 0 || e.bitLength() > MAX_RSA_EXPONENT_BITS) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "RSA public exponent of " + e.bitLength() + " bits is not "
            + "accepted (an odd exponent of at most " + MAX_RSA_EXPONENT_BITS + " bits, such as 65537)");
      }
      return;
    }
    if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      ASN1ObjectIdentifier curve;
      try {
        curve = ASN1ObjectIdentifier.getInstance(spki.getAlgorithm().getParameters());
      } catch (IllegalArgumentException e) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "EC keys must name their curve (explicit parameters "
            + "are not accepted)");
      }
      if (!t.ecCurves().contains(curve)) {
        throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "template " + t.name() + " does not accept EC keys on "
            + "curve " + curveName(curve) + (t.ecCurves().isEmpty() ? " (no EC keys at all)" : ""));
      }
      return;
    }
    throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "template " + t.name() + " does not accept " + alg.getId()
        + " keys (RSA" + (t.ecCurves().isEmpty() ? "" : " and EC") + " only)");
  }

  static String shortName(ASN1ObjectIdentifier type) {
    if (type.equals(BCStyle.EmailAddress)) {
      return "E";
    }
    String s = BCStyle.INSTANCE.oidToDisplayName(type);
    return s == null ? type.getId() : s.toUpperCase();
  }

  static String curveName(ASN1ObjectIdentifier curve) {
    String n = org.bouncycastle.asn1.x9.ECNamedCurveTable.getName(curve);
    return n == null ? curve.getId() : n;
  }
}
