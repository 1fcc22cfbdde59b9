package org.keyarc.ca.auth;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.support.Digests;

/**
 * Who sent a request, as the node established it: the holder of a certificate this CA issued (from a
 * signature-protected message or a TLS client certificate) with its roles, or the reference of a one-time
 * secret (MAC-protected message), or the local operator who holds the CA token's PIN.
 *
 * <p>{@code name} is a label (the certificate's subject, the secret's reference) and {@link #actor()} what the
 * audit log writes; the identity itself is the {@link #principal()}: the SHA-256 of the certificate's public key
 * ({@code keyId}), the secret reference, or the local operator. {@code origin} names who vouched for it
 * (space-separated principals: the creator of the secret, or of the secret at the root of the certificate's
 * enrollments; may be null). Four eyes compares {@link #parties()}; certConf and pollReq compare principals.
 */
public record Identity(Kind kind, String name, Set<Role> roles, String keyId, BigInteger serial, String origin) {
  public enum Kind { CERTIFICATE, SECRET, LOCAL_OPERATOR }

  /** The principal of the local operator. */
  public static final String LOCAL_OPERATOR = "local-operator";

  /** An identity known by its label only (tests, and callers without a certificate at hand). */
  public Identity(Kind kind, String name, Set<Role> roles) {
    this(kind, name, roles, null, null, null);
  }

  /** The operator at the CA host who unlocked the CA token (ca init, ca import-cert). */
  public static Identity localOperator() {
    return new Identity(Kind.LOCAL_OPERATOR, LOCAL_OPERATOR, Set.of(Role.ADMINISTRATOR));
  }

  /** The identity of a one-time secret's MAC: no role; its origin is the secret's creator. */
  public static Identity ofSecret(SecretRecord s) {
    String origin = s.creator();
    if (origin == null || origin.isBlank()) {
      // made before store version 6: only the creator's label is known
      origin = LOCAL_OPERATOR.equals(s.createdBy()) ? LOCAL_OPERATOR : labelOf(s.createdBy());
    }
    return new Identity(Kind.SECRET, s.reference(), Set.of(), null, null, origin);
  }

  public boolean has(Role role) {
    return roles.contains(role);
  }

  /** The actor string written to the audit log. */
  public String actor() {
    return switch (kind) {
      case CERTIFICATE -> name;
      case SECRET -> "secret:" + name;
      case LOCAL_OPERATOR -> LOCAL_OPERATOR;
    };
  }

  /**
   * The identity itself: {@code key:<SHA-256 of the public key>} for a certificate holder (the subject's label
   * when the key is not known), {@code secret:<reference>}, or {@code local-operator}.
   */
  public String principal() {
    return switch (kind) {
      case CERTIFICATE -> keyId != null ? keyPrincipal(keyId) : labelOf(name);
      case SECRET -> "secret:" + name;
      case LOCAL_OPERATOR -> LOCAL_OPERATOR;
    };
  }

  /** The principal and, for a certificate holder, its subject's label: every name this identity acts under. */
  public Set<String> aliases() {
    Set<String> out = new LinkedHashSet<>();
    out.add(principal());
    if (kind == Kind.CERTIFICATE) {
      out.add(labelOf(name));
    }
    return out;
  }

  /** {@link #aliases()} space-separated: what a secret records of its creator. */
  public String aliasesText() {
    return String.join(" ", aliases());
  }

  /** Everyone this identity acts for: its aliases and its origin. */
  public Set<String> parties() {
    Set<String> out = aliases();
    out.addAll(split(origin));
    return out;
  }

  /** The principal of a public key, from its SHA-256 in hexadecimal. */
  public static String keyPrincipal(String keySha256Hex) {
    return "key:" + keySha256Hex;
  }

  /** The principal of a certificate (rows migrated from name-bound roles). */
  public static String certPrincipal(BigInteger serial) {
    return "cert:" + Digests.hex(serial);
  }

  /**
   * The label of a subject DN: {@code dn:<SHA-256 of its canonical form>} (attribute types by OID, values as
   * RFC 4518 canonical strings: case and inner spaces do not make another name).
   */
  public static String labelOf(String dn) {
    String text;
    try {
      text = canonical(new X500Name(dn));
    } catch (IllegalArgumentException e) {
      text = dn; // not a DN (a label from an old row): the text itself
    }
    return "dn:" + Digests.sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The canonical text of a DN, as BC's X500Name equality sees it. */
  public static String canonical(X500Name name) {
    StringBuilder b = new StringBuilder();
    for (RDN rdn : name.getRDNs()) {
      b.append(b.length() == 0 ? "" : ",");
      boolean first = true;
      for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
        ASN1Encodable v = atv.getValue();
        b.append(first ? "" : "+").append(atv.getType().getId()).append('=').append(IETFUtils.canonicalString(v)
            .replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+"));
        first = false;
      }
    }
    return b.toString();
  }

  /** The principals of a space-separated list (null or blank: none). */
  public static Set<String> split(String principals) {
    Set<String> out = new LinkedHashSet<>();
    if (principals != null) {
      for (String p : principals.trim().split("\\s+")) {
        if (!p.isEmpty()) {
          out.add(p);
        }
      }
    }
    return out;
  }
}
