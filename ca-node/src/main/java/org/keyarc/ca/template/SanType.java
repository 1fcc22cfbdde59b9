package org.keyarc.ca.template;

import java.util.Locale;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.OtherName;
import org.bouncycastle.util.IPAddress;

/**
 * The subjectAltName types a template may allow (RFC 5280 §4.2.1.6, plus Microsoft's UPN otherName). Every
 * other GeneralName form (x400Address, ediPartyName, registeredID, any other otherName) is never issued.
 * Each type parses and prints its values in one form ({@code email:alice@example.org}, {@code dns:host},
 * {@code ip:192.0.2.1}, {@code upn:alice@corp.example}, {@code dirName:CN=Alice}, {@code uri:https://...}).
 */
public enum SanType {
  RFC822_NAME("rfc822Name", "email", GeneralName.rfc822Name),
  DNS_NAME("dNSName", "dns", GeneralName.dNSName),
  IP_ADDRESS("iPAddress", "ip", GeneralName.iPAddress),
  UPN("upn", "upn", GeneralName.otherName),
  DIRECTORY_NAME("directoryName", "dirName", GeneralName.directoryName),
  URI("uniformResourceIdentifier", "uri", GeneralName.uniformResourceIdentifier);

  /** Microsoft's user principal name otherName, 1.3.6.1.4.1.311.20.2.3. */
  public static final ASN1ObjectIdentifier UPN_OID = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2.3");

  private final String configName;
  private final String prefix;
  private final int tag;

  SanType(String configName, String prefix, int tag) {
    this.configName = configName;
    this.prefix = prefix;
    this.tag = tag;
  }

  /** The name in a template's configuration ({@code subjectAltNames: {rfc822Name: ...}}). */
  public String configName() {
    return configName;
  }

  /** The prefix of a value typed by people ({@code email:}). */
  public String prefix() {
    return prefix;
  }

  /** The type named {@code name} in a configuration, if any. */
  public static Optional<SanType> ofConfigName(String name) {
    for (SanType t : values()) {
      if (t.configName.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** The type of {@code name}, empty for forms keyarc never issues (x400Address, registeredID, other otherNames). */
  public static Optional<SanType> of(GeneralName name) {
    for (SanType t : values()) {
      if (t.tag == name.getTagNo() && (t != UPN || isUpn(name))) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  private static boolean isUpn(GeneralName name) {
    try {
      return OtherName.getInstance(name.getName()).getTypeID().equals(UPN_OID);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** What a GeneralName form keyarc never issues is called in messages ("otherName 1.2.3", "registeredID"). */
  public static String describeForm(GeneralName name) {
    switch (name.getTagNo()) {
      case GeneralName.otherName:
        try {
          return "otherName " + OtherName.getInstance(name.getName()).getTypeID().getId();
        } catch (IllegalArgumentException e) {
          return "a malformed otherName";
        }
      case GeneralName.x400Address: return "x400Address";
      case GeneralName.ediPartyName: return "ediPartyName";
      case GeneralName.registeredID: return "registeredID";
      default:
        return of(name).map(SanType::configName).orElse("GeneralName [" + name.getTagNo() + "]");
    }
  }

  /** The value of {@code name} (of this type) as text: the address, host, IP, UPN, DN or URI. */
  public static String value(GeneralName name) {
    SanType t = of(name).orElseThrow(() -> new IllegalArgumentException(describeForm(name) + " is not supported"));
    switch (t) {
      case IP_ADDRESS: {
        byte[] b = org.bouncycastle.asn1.ASN1OctetString.getInstance(name.getName()).getOctets();
        try {
          return java.net.InetAddress.getByAddress(b).getHostAddress(); // a literal: no name lookup
        } catch (java.net.UnknownHostException e) {
          throw new IllegalArgumentException("an iPAddress of " + b.length + " bytes");
        }
      }
      case UPN: {
        org.bouncycastle.asn1.ASN1Encodable v = OtherName.getInstance(name.getName()).getValue();
        if (v instanceof org.bouncycastle.asn1.ASN1TaggedObject tagged) {
          v = tagged.getExplicitBaseObject();
        }
        if (!(v instanceof ASN1String s)) {
          throw new IllegalArgumentException("a UPN otherName whose value is not a string");
        }
        return s.getString();
      }
      case DIRECTORY_NAME:
        return X500Name.getInstance(name.getName()).toString();
      default:
        return ((ASN1String) name.getName()).getString();
    }
  }

  /** {@code name} as people read and type it: {@code email:alice@example.org}. */
  public static String text(GeneralName name) {
    Optional<SanType> t = of(name);
    if (t.isEmpty()) {
      return describeForm(name);
    }
    try {
      return t.get().prefix + ":" + value(name);
    } catch (IllegalArgumentException e) {
      return t.get().configName + " (" + e.getMessage() + ")";
    }
  }

  /**
   * Parses {@code type:value} as people type it ({@code email:}, {@code dns:}, {@code ip:}, {@code upn:},
   * {@code dirName:}, {@code uri:}; the prefix in any case) and checks the value's form.
   */
  public static GeneralName parse(String text) {
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("'" + text + "' is not TYPE:VALUE (email:, dns:, ip:, upn:, dirName:, uri:)");
    }
    String prefix = text.substring(0, colon).toLowerCase(Locale.ROOT);
    String value = text.substring(colon + 1).trim();
    for (SanType t : values()) {
      if (t.prefix.toLowerCase(Locale.ROOT).equals(prefix)) {
        return t.name(value);
      }
    }
    throw new IllegalArgumentException("unknown name type '" + text.substring(0, colon) + "' (use email, dns, ip, upn, "
        + "dirName or uri)");
  }

  /** A GeneralName of this type for {@code value}, whose form is checked first. */
  public GeneralName name(String value) {
    checkForm(value);
    switch (this) {
      case RFC822_NAME: return new GeneralName(GeneralName.rfc822Name, new DERIA5String(value));
      case DNS_NAME: return new GeneralName(GeneralName.dNSName, new DERIA5String(value));
      case IP_ADDRESS: return new GeneralName(GeneralName.iPAddress, value);
      case UPN: return new GeneralName(GeneralName.otherName, new OtherName(UPN_OID, new DERUTF8String(value)));
      case DIRECTORY_NAME: return new GeneralName(new X500Name(value));
      default: return new GeneralName(GeneralName.uniformResourceIdentifier, new DERIA5String(value));
    }
  }

  /** Refuses a value that is not of this type's form (IllegalArgumentException naming the type). */
  public void checkForm(String value) {
    if (value == null || value.isEmpty() || value.length() > 255) {
      throw new IllegalArgumentException(configName + " must have 1 to 255 characters");
    }
    switch (this) {
      case RFC822_NAME:
      case UPN: {
        int at = value.lastIndexOf('@');
        if (at <= 0 || !value.substring(0, at).matches("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+")
            || !isHostName(value.substring(at + 1))) {
          throw new IllegalArgumentException(configName + " '" + value + "' is not local@domain");
        }
        return;
      }
      case DNS_NAME:
        if (!isHostName(value)) {
          throw new IllegalArgumentException("dNSName '" + value + "' is not a host name (letters, digits, hyphens "
              + "and dots; no wildcards)");
        }
        return;
      case IP_ADDRESS:
        if (!IPAddress.isValid(value)) {
          throw new IllegalArgumentException("iPAddress '" + value + "' is not an IPv4 or IPv6 address");
        }
        return;
      case DIRECTORY_NAME:
        try {
          if (new X500Name(value).getRDNs().length == 0) {
            throw new IllegalArgumentException("empty");
          }
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("directoryName '" + value + "' is not a distinguished name");
        }
        return;
      default:
        try {
          java.net.URI u = new java.net.URI(value);
          if (!u.isAbsolute() || !value.matches("\\p{ASCII}+") || value.contains(" ")) {
            throw new java.net.URISyntaxException(value, "not absolute");
          }
        } catch (java.net.URISyntaxException e) {
          throw new IllegalArgumentException("uniformResourceIdentifier '" + value + "' is not an absolute URI");
        }
    }
  }

  /** Letters, digits and hyphens in dot-separated labels of 1 to 63, at most 253 in all; no wildcard. */
  static boolean isHostName(String s) {
    if (s.isEmpty() || s.length() > 253 || s.endsWith(".")) {
      return false;
    }
    for (String label : s.split("\\.", -1)) {
      if (!label.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")) {
        return false;
      }
    }
    return true;
  }
}
