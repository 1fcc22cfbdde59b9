package org.keyarc.ca.template;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.keyarc.ca.CaException;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;

/**
 * A template's subjectAltName policy applied ({@link SanPolicy}): what a request may ask for, what a one-time
 * secret may bind, and the names a certificate gets. The issued certificate's extensions come from the
 * template and this policy only; nothing of a request is copied into a certificate unchecked.
 */
public final class NameRules {
  /**
   * Request extensions keyarc sets itself from the template (keyUsage, extendedKeyUsage, basicConstraints,
   * subjectKeyIdentifier): a request may carry them, as many clients do, but they are ignored, never copied.
   */
  public static final Set<ASN1ObjectIdentifier> IGNORED = Set.of(Extension.keyUsage, Extension.extendedKeyUsage,
      Extension.basicConstraints, Extension.subjectKeyIdentifier);
  /** At most this many subjectAltName values in a request or bound to a secret. */
  public static final int MAX_NAMES = 16;

  private static final Map<ASN1ObjectIdentifier, String> EXTENSION_NAMES = Map.ofEntries(
      Map.entry(Extension.certificatePolicies, "certificatePolicies"),
      Map.entry(Extension.nameConstraints, "nameConstraints"),
      Map.entry(Extension.policyConstraints, "policyConstraints"),
      Map.entry(Extension.policyMappings, "policyMappings"),
      Map.entry(Extension.inhibitAnyPolicy, "inhibitAnyPolicy"),
      Map.entry(Extension.issuerAlternativeName, "issuerAltName"),
      Map.entry(Extension.subjectDirectoryAttributes, "subjectDirectoryAttributes"),
      Map.entry(Extension.authorityInfoAccess, "authorityInfoAccess"),
      Map.entry(Extension.subjectInfoAccess, "subjectInfoAccess"),
      Map.entry(Extension.cRLDistributionPoints, "cRLDistributionPoints"),
      Map.entry(Extension.authorityKeyIdentifier, "authorityKeyIdentifier"),
      Map.entry(Extension.privateKeyUsagePeriod, "privateKeyUsagePeriod"),
      Map.entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.7"), "Microsoft certificate template"),
      Map.entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2"), "Microsoft certificate template name"),
      Map.entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.10"), "Microsoft application policies"),
      Map.entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.311.25.2"), "Microsoft security identifier"));

  private NameRules() {}

  /**
   * The subjectAltNames a request asks for (CRMF template extensions, or a PKCS#10 extensionRequest), or
   * null for none. {@link #IGNORED} extensions are dropped; any other is refused EXTENSION_NOT_ALLOWED.
   */
  public static GeneralNames requested(Template t, Extensions requested) throws CaException {
    if (requested == null) {
      return null;
    }
    GeneralNames sans = null;
    for (ASN1ObjectIdentifier oid : requested.getExtensionOIDs()) {
      if (oid.equals(Extension.subjectAlternativeName)) {
        try {
          sans = GeneralNames.getInstance(requested.getExtension(oid).getParsedValue());
        } catch (IllegalArgumentException | IllegalStateException e) {
          throw new CaException(ErrorCode.BAD_MESSAGE, "the request's subjectAltName extension cannot be parsed");
        }
      } else if (!IGNORED.contains(oid)) {
        throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "the request's extension " + extensionName(oid)
            + " is not allowed: template " + t.name() + " decides the certificate's extensions (a request may "
            + "carry only subjectAltName; keyUsage, extendedKeyUsage and basicConstraints are ignored)");
      }
    }
    if (sans != null && sans.getNames().length > MAX_NAMES) {
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "the request's subjectAltName holds "
          + sans.getNames().length + " names; at most " + MAX_NAMES);
    }
    return sans == null || sans.getNames().length == 0 ? null : sans;
  }

  /**
   * The subjectAltNames of a new certificate of {@code t}: for the types the template takes from the
   * secret, the values {@code bound} to the sender's credential ({@code boundFrom}: "the one-time secret",
   * "the signer's certificate"), which a request may repeat but never change; for the types it takes from
   * the request or the approver, the request's values, checked. Null when there are none.
   */
  public static GeneralNames decide(Template t, GeneralNames requested, GeneralNames bound, String boundFrom)
      throws CaException {
    List<GeneralName> out = new ArrayList<>();
    for (GeneralName g : names(bound)) {
      Optional<SanType> type = SanType.of(g);
      if (type.isPresent() && source(t, type.get()) == SanPolicy.Source.SECRET && !contains(out, g)) {
        out.add(g);
      }
    }
    for (GeneralName g : names(requested)) {
      SanType type = allowedType(t, g);
      SanPolicy.Rule rule = t.subjectAltNames().rule(type).orElseThrow();
      String value = checkedValue(t, type, g);
      switch (rule.from()) {
        case SECRET:
          if (!contains(names(bound), g)) {
            throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "template " + t.name() + " takes "
                + type.configName() + " from " + boundFrom + " (" + listed(bound, type) + "), not from the request: "
                + "subjectAltName " + Texts.printable(type.prefix() + ":" + value) + " is not allowed");
          }
          break;
        case REQUEST:
          if (!underSuffix(type, value, rule.suffixes())) {
            throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "subjectAltName "
                + Texts.printable(type.prefix() + ":" + value) + " is not allowed: template " + t.name() + " takes a "
                + type.configName() + " from the request only under " + String.join(", ", rule.suffixes()));
          }
          if (!contains(out, g)) {
            out.add(g);
          }
          break;
        default: // APPROVER: held with the request, shown at request show, issued only on approval
          if (!contains(out, g)) {
            out.add(g);
          }
      }
    }
    return checkedRequired(t, out, boundFrom);
  }

  /**
   * A key update's subjectAltNames: those of the certificate being updated ({@code old}) whose types the
   * template still allows. A request may repeat them, never add one.
   */
  public static GeneralNames keep(Template t, GeneralNames requested, GeneralNames old) throws CaException {
    List<GeneralName> out = new ArrayList<>();
    for (GeneralName g : names(old)) {
      Optional<SanType> type = SanType.of(g);
      if (type.isPresent() && t.subjectAltNames().rule(type.get()).isPresent() && !contains(out, g)) {
        out.add(g);
      }
    }
    for (GeneralName g : names(requested)) {
      SanType type = allowedType(t, g);
      String value = checkedValue(t, type, g);
      if (!contains(out, g)) {
        throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "a key update keeps the names of the certificate it "
            + "updates: subjectAltName " + Texts.printable(type.prefix() + ":" + value) + " is not in it");
      }
    }
    return checkedRequired(t, out, "the certificate being updated");
  }

  /**
   * The names bound to a new one-time secret of {@code t}: only types the template takes from a secret,
   * each well formed, and every type it requires from the secret present.
   */
  public static void checkBound(Template t, GeneralNames bound) throws CaException {
    GeneralName[] all = names(bound);
    if (all.length > MAX_NAMES) {
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "at most " + MAX_NAMES + " subjectAltNames per secret");
    }
    for (GeneralName g : all) {
      SanType type = allowedType(t, g);
      SanPolicy.Source from = source(t, type);
      checkedValue(t, type, g);
      if (from != SanPolicy.Source.SECRET) {
        throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "template " + t.name() + " takes " + type.configName()
            + " from the " + from.configName() + ", not from a one-time secret");
      }
    }
    for (Map.Entry<SanType, SanPolicy.Rule> e : t.subjectAltNames().rules().entrySet()) {
      if (e.getValue().required() && e.getValue().from() == SanPolicy.Source.SECRET
          && Arrays.stream(all).noneMatch(g -> SanType.of(g).orElse(null) == e.getKey())) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "template " + t.name() + " needs a " + e.getKey().configName()
            + " bound to the secret (secret create --" + (e.getKey() == SanType.RFC822_NAME ? "email ADDRESS"
                : "san " + e.getKey().prefix() + ":VALUE") + ")");
      }
    }
  }

  /** Refuses a name of a type the template does not allow at all: the last check before a certificate is signed. */
  public static void checkIssued(Template t, GeneralNames names) throws CaException {
    for (GeneralName g : names(names)) {
      checkedValue(t, allowedType(t, g), g);
    }
  }

  /** The subjectAltNames of a stored request's extensions (what the request was granted), or null. */
  public static GeneralNames of(Extensions extensions) {
    if (extensions == null || extensions.getExtension(Extension.subjectAlternativeName) == null) {
      return null;
    }
    return GeneralNames.getInstance(extensions.getExtensionParsedValue(Extension.subjectAlternativeName));
  }

  /** {@code names} as the one extension a held request stores, or null. */
  public static Extensions asExtensions(GeneralNames names) {
    if (names == null) {
      return null;
    }
    try {
      return new Extensions(new Extension(Extension.subjectAlternativeName, false, names.getEncoded("DER")));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Each name as people read it ("email:alice@example.org"). */
  public static List<String> texts(GeneralNames names) {
    return Arrays.stream(names(names)).map(SanType::text).toList();
  }

  // ------------------------------------------------------------------ helpers

  private static GeneralName[] names(GeneralNames n) {
    return n == null ? new GeneralName[0] : n.getNames();
  }

  private static SanPolicy.Source source(Template t, SanType type) {
    return t.subjectAltNames().rule(type).map(SanPolicy.Rule::from).orElse(null);
  }

  /** The type of {@code g}, or EXTENSION_NOT_ALLOWED when it is not one the template allows. */
  private static SanType allowedType(Template t, GeneralName g) throws CaException {
    Optional<SanType> type = SanType.of(g);
    if (type.isEmpty()) {
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "subjectAltName " + SanType.describeForm(g)
          + " is never issued (template " + t.name() + " allows " + t.subjectAltNames().describe() + ")");
    }
    if (t.subjectAltNames().rule(type.get()).isEmpty()) {
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "template " + t.name() + " allows no "
          + type.get().configName() + " in subjectAltName (asked: " + Texts.printable(SanType.text(g))
          + "; allowed: " + t.subjectAltNames().describe() + ")");
    }
    return type.get();
  }

  private static String checkedValue(Template t, SanType type, GeneralName g) throws CaException {
    try {
      String value = SanType.value(g);
      type.checkForm(value);
      return value;
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.EXTENSION_NOT_ALLOWED, "subjectAltName " + type.configName() + " is malformed: "
          + Texts.printable(e.getMessage()));
    }
  }

  private static GeneralNames checkedRequired(Template t, List<GeneralName> out, String boundFrom)
      throws CaException {
    for (Map.Entry<SanType, SanPolicy.Rule> e : t.subjectAltNames().rules().entrySet()) {
      if (e.getValue().required() && out.stream().noneMatch(g -> SanType.of(g).orElse(null) == e.getKey())) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "template " + t.name() + " needs a " + e.getKey().configName()
            + " in subjectAltName (from the " + e.getValue().from().configName() + "), and "
            + (e.getValue().from() == SanPolicy.Source.SECRET ? boundFrom + " has none" : "the request has none"));
      }
    }
    return out.isEmpty() ? null : new GeneralNames(out.toArray(new GeneralName[0]));
  }

  private static String listed(GeneralNames bound, SanType type) {
    List<String> values = new ArrayList<>();
    for (GeneralName g : names(bound)) {
      if (SanType.of(g).orElse(null) == type) {
        values.add(Texts.printable(SanType.text(g)));
      }
    }
    return values.isEmpty() ? "none bound" : String.join(", ", values);
  }

  /** True when {@code names} holds a name equal to {@code g} (host names and addresses compared in any case). */
  static boolean contains(GeneralName[] names, GeneralName g) {
    for (GeneralName n : names) {
      if (same(n, g)) {
        return true;
      }
    }
    return false;
  }

  private static boolean contains(List<GeneralName> names, GeneralName g) {
    return contains(names.toArray(new GeneralName[0]), g);
  }

  private static boolean same(GeneralName a, GeneralName b) {
    Optional<SanType> ta = SanType.of(a);
    if (ta.isEmpty() || ta.get() != SanType.of(b).orElse(null)) {
      return false;
    }
    try {
      switch (ta.get()) {
        case RFC822_NAME: case DNS_NAME: case UPN:
          return SanType.value(a).equalsIgnoreCase(SanType.value(b));
        case IP_ADDRESS:
          return Arrays.equals(ASN1OctetString.getInstance(a.getName()).getOctets(),
              ASN1OctetString.getInstance(b.getName()).getOctets());
        case DIRECTORY_NAME:
          return X500Name.getInstance(a.getName()).equals(X500Name.getInstance(b.getName()));
        default:
          return SanType.value(a).equals(SanType.value(b));
      }
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** A host (dNSName) or the domain of an address (rfc822Name, upn) equal to a suffix or under it. */
  static boolean underSuffix(SanType type, String value, List<String> suffixes) {
    String host = type == SanType.DNS_NAME ? value : value.substring(value.lastIndexOf('@') + 1);
    host = host.toLowerCase(Locale.ROOT);
    for (String s : suffixes) {
      String d = s.toLowerCase(Locale.ROOT);
      if (host.equals(d) || host.endsWith("." + d)) {
        return true;
      }
    }
    return false;
  }

  private static String extensionName(ASN1ObjectIdentifier oid) {
    String n = EXTENSION_NAMES.get(oid);
    return n == null ? oid.getId() : n + " (" + oid.getId() + ")";
  }
}
