package org.keyarc.ca.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;

/**
 * What makes a template issue CA certificates: qualified subordination (ADCS's term) of a subordinate CA, or
 * a cross-certificate for another CA's key — the same certificate, CA:true with constraints on what the CA below
 * may issue that relying parties check (RFC 5280 section 4.2.1.9 to 4.2.1.14).
 *
 * @param pathLen the pathLenConstraint: how many CA certificates may follow it; -1 for none
 * @param permitted the names the CA below may certify (name constraints' permittedSubtrees), in the text form of
 *     {@link #subtree}
 * @param excluded the names it may not (excludedSubtrees)
 * @param policyMappings issuer-domain policy to subject-domain policy, each pair "ISSUER_OID=SUBJECT_OID"
 * @param requireExplicitPolicy policyConstraints' requireExplicitPolicy (certificates below this many more CA
 *     certificates must carry an acceptable policy); -1 for none
 * @param inhibitPolicyMapping policyConstraints' inhibitPolicyMapping; -1 for none
 * @param inhibitAnyPolicy the inhibitAnyPolicy extension's skipCerts; -1 for none
 */
public record Subordination(int pathLen, List<String> permitted, List<String> excluded, List<String> policyMappings,
    int requireExplicitPolicy, int inhibitPolicyMapping, int inhibitAnyPolicy) {
  /** anyPolicy, 2.5.29.32.0: never mapped to or from (RFC 5280 section 4.2.1.5). */
  public static final ASN1ObjectIdentifier ANY_POLICY = new ASN1ObjectIdentifier("2.5.29.32.0");

  public Subordination {
    permitted = List.copyOf(permitted);
    excluded = List.copyOf(excluded);
    policyMappings = List.copyOf(policyMappings);
  }

  /**
   * One subtree from its text form: {@code dns:example.com} (the domain and every name under it),
   * {@code email:example.com} (mailboxes at that host), {@code email:.example.com} (at any host under it),
   * {@code email:alice@example.com}, {@code dir:O=Example,C=DE} (names under that distinguished name),
   * {@code ip:10.0.0.0/8} or {@code ip:2001:db8::/32}, {@code uri:.example.com}.
   */
  public static GeneralSubtree subtree(String text) {
    int colon = text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not a subtree: use dns:, email:, dir:, ip: or uri: "
          + "followed by the name, e.g. dns:example.com");
    }
    String kind = text.substring(0, colon).toLowerCase(Locale.ROOT);
    String value = text.substring(colon + 1).trim();
    GeneralName name = switch (kind) {
      case "dns" -> {
        String d = value.startsWith(".") ? value.substring(1) : value;
        if (!SanType.isHostName(d)) {
          throw new IllegalArgumentException("'" + value + "' is not a domain name");
        }
        yield new GeneralName(GeneralName.dNSName, d.toLowerCase(Locale.ROOT));
      }
      case "email" -> {
        String host = value.substring(value.indexOf('@') + 1);
        String h = host.startsWith(".") ? host.substring(1) : host;
        if (!SanType.isHostName(h) || value.indexOf('@') != value.lastIndexOf('@')) {
          throw new IllegalArgumentException("'" + value + "' is not a mailbox, a host or a .domain");
        }
        yield new GeneralName(GeneralName.rfc822Name, value);
      }
      case "uri" -> {
        String h = value.startsWith(".") ? value.substring(1) : value;
        if (!SanType.isHostName(h)) {
          throw new IllegalArgumentException("'" + value + "' is not a host or a .domain");
        }
        yield new GeneralName(GeneralName.uniformResourceIdentifier, value);
      }
      case "dir" -> {
        try {
          yield new GeneralName(new X500Name(value));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("'" + value + "' is not a distinguished name");
        }
      }
      case "ip" -> {
        if (!value.contains("/")) {
          throw new IllegalArgumentException("'" + value + "' needs a prefix length, e.g. 10.0.0.0/8");
        }
        try {
          yield new GeneralName(GeneralName.iPAddress, value);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("'" + value + "' is not an address range");
        }
      }
      default -> throw new IllegalArgumentException("'" + kind + "' is not a subtree kind: use dns, email, dir, ip "
          + "or uri");
    };
    return new GeneralSubtree(name);
  }

  /** The subtrees of {@code texts}. */
  public static List<GeneralSubtree> subtrees(List<String> texts) {
    List<GeneralSubtree> out = new ArrayList<>();
    for (String t : texts) {
      out.add(subtree(t));
    }
    return out;
  }

  /** One policy mapping "ISSUER_OID=SUBJECT_OID" as its two OIDs. */
  public static ASN1ObjectIdentifier[] mapping(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("'" + text + "' is not a policy mapping: use ISSUER_OID=SUBJECT_OID");
    }
    try {
      return new ASN1ObjectIdentifier[] {new ASN1ObjectIdentifier(text.substring(0, eq).trim()),
          new ASN1ObjectIdentifier(text.substring(eq + 1).trim())};
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not a policy mapping of two dotted OIDs");
    }
  }
}
