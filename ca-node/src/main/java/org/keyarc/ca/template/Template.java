package org.keyarc.ca.template;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * A certificate template (in the manner of an ADCS version-2 template): what a certificate issued
 * under it looks like and which requests it accepts. Immutable; built and checked by {@link Builder}.
 *
 * @param name the template name clients and managers use ("User")
 * @param validity how long issued certificates are valid
 * @param keyUsage the KeyUsage bits (org.bouncycastle.asn1.x509.KeyUsage constants ORed)
 * @param extendedKeyUsages the EKU OIDs, may be empty
 * @param rsaMinBits the smallest RSA modulus accepted; 0 refuses RSA keys
 * @param ecCurves the EC curves accepted (OIDs); empty refuses EC keys
 * @param requiredRdns the RDN attribute types a subject must contain (by short name: CN, O, ...)
 * @param allowedRdns the RDN attribute types a subject may contain; anything else is refused
 * @param requiresApproval requests wait as pending until a certificate manager approves them
 * @param archivePrivateKey the subject's private key must be archived before the certificate is issued
 *     (only for key usages that encrypt or agree keys: never for a signature-only template)
 * @param enrollers who may enroll on it
 * @param subjectAltNames which subjectAltName types its certificates carry, and where their values come from
 * @param certificatePolicies the certificate policies its certificates assert (OIDs), may be empty
 * @param cpsUri the URI of the certification practice statement, a qualifier of each policy; null for none
 * @param approvals how many managers must approve a request (each once) before it is issued; 1 unless it
 *     {@code requiresApproval}
 * @param renewalWindow how long before its certificate expires a holder may renew it (a kur, or enrolling again on
 *     the same template with it); {@link Duration#ZERO}: at any time
 * @param subordinate null for end-entity certificates; for a template that issues CA certificates (sub-CAs and
 *     cross-certificates), their constraints
 * @param centralKeygen a request without a public key gets a key pair generated in the CA's HSM, archived like a
 *     client's and returned to the requester encrypted (RFC 9483 4.1.6); only with {@code archivePrivateKey}
 */
public record Template(
    String name,
    Duration validity,
    int keyUsage,
    List<ASN1ObjectIdentifier> extendedKeyUsages,
    int rsaMinBits,
    Set<ASN1ObjectIdentifier> ecCurves,
    Set<String> requiredRdns,
    Set<String> allowedRdns,
    boolean requiresApproval,
    boolean archivePrivateKey,
    Enrollers enrollers,
    SanPolicy subjectAltNames,
    List<ASN1ObjectIdentifier> certificatePolicies,
    String cpsUri,
    int approvals,
    Duration renewalWindow,
    Subordination subordinate,
    boolean centralKeygen) {

  /** The key usages that establish keys: a template must have one of them to archive private keys. */
  public static final int KEY_ESTABLISHMENT = KeyUsage.keyEncipherment | KeyUsage.keyAgreement
      | KeyUsage.dataEncipherment;

  /** Microsoft's Key Recovery Agent EKU, 1.3.6.1.4.1.311.21.6. */
  public static final ASN1ObjectIdentifier EKU_KEY_RECOVERY_AGENT = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.6");
  /** Microsoft's Private Key Archival EKU (the CA exchange certificate), 1.3.6.1.4.1.311.21.5. */
  public static final ASN1ObjectIdentifier EKU_PRIVATE_KEY_ARCHIVAL = new ASN1ObjectIdentifier("1.3.6.1.4.1.311.21.5");

  /** The EKU names a configuration may use, besides dotted OIDs. */
  public static ASN1ObjectIdentifier ekuOf(String nameOrOid) {
    switch (nameOrOid) {
      case "clientAuth": return KeyPurposeId.id_kp_clientAuth.toOID();
      case "serverAuth": return KeyPurposeId.id_kp_serverAuth.toOID();
      case "emailProtection": return KeyPurposeId.id_kp_emailProtection.toOID();
      case "codeSigning": return KeyPurposeId.id_kp_codeSigning.toOID();
      case "keyRecoveryAgent": return EKU_KEY_RECOVERY_AGENT;
      case "privateKeyArchival": return EKU_PRIVATE_KEY_ARCHIVAL;
      default:
        try {
          return new ASN1ObjectIdentifier(nameOrOid);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("unknown extended key usage '" + nameOrOid + "': use clientAuth, "
              + "serverAuth, emailProtection, codeSigning, keyRecoveryAgent or a dotted OID");
        }
    }
  }

  @Override
  public String toString() {
    return "Template[" + name + "]";
  }

  /** A builder for template {@code name}: no key usage, EKU, SAN or approval; one-time secrets only. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder holding this template's values. */
  public Builder toBuilder() {
    return new Builder(name).validity(validity).keyUsage(keyUsage).extendedKeyUsages(extendedKeyUsages)
        .rsaMinBits(rsaMinBits).ecCurves(ecCurves).requiredRdns(requiredRdns).allowedRdns(allowedRdns)
        .requiresApproval(requiresApproval).archivePrivateKey(archivePrivateKey).enrollers(enrollers)
        .subjectAltNames(subjectAltNames).certificatePolicies(certificatePolicies).cpsUri(cpsUri)
        .approvals(approvals).renewalWindow(renewalWindow).subordinate(subordinate).centralKeygen(centralKeygen);
  }

  /** True when it issues CA certificates (sub-CAs, cross-certificates). */
  public boolean issuesCaCertificates() {
    return subordinate != null;
  }

  /** A template that breaks a rule: {@link #field()} is the template's field, as the configuration names it. */
  public static final class Invalid extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String field;

    Invalid(String field, String message) {
      super(message);
      this.field = field;
    }

    /** The field at fault ("archivePrivateKey", "subjectAltNames.dNSName.suffixes"). */
    public String field() {
      return field;
    }
  }

  /** Builds templates; {@link #build()} checks the rules a template must keep, naming the field at fault. */
  public static final class Builder {
    private final String name;
    private Duration validity = Duration.ofDays(365);
    private int keyUsage;
    private List<ASN1ObjectIdentifier> extendedKeyUsages = List.of();
    private int rsaMinBits = 2048;
    private Set<ASN1ObjectIdentifier> ecCurves = Set.of();
    private Set<String> requiredRdns = Set.of("CN");
    private Set<String> allowedRdns = Set.of("CN");
    private boolean requiresApproval;
    private boolean archivePrivateKey;
    private boolean centralKeygen;
    private Enrollers enrollers = Enrollers.secretOnly();
    private SanPolicy subjectAltNames = SanPolicy.NONE;
    private List<ASN1ObjectIdentifier> certificatePolicies = List.of();
    private String cpsUri;
    private Duration renewalWindow = Duration.ZERO;
    private int approvals = 1;
    private Subordination subordinate;

    private Builder(String name) {
      this.name = name;
    }

    public Builder validity(Duration v) {
      this.validity = v;
      return this;
    }

    public Builder keyUsage(int bits) {
      this.keyUsage = bits;
      return this;
    }

    public Builder extendedKeyUsages(List<ASN1ObjectIdentifier> v) {
      this.extendedKeyUsages = List.copyOf(v);
      return this;
    }

    public Builder rsaMinBits(int v) {
      this.rsaMinBits = v;
      return this;
    }

    public Builder ecCurves(Set<ASN1ObjectIdentifier> v) {
      this.ecCurves = Set.copyOf(v);
      return this;
    }

    public Builder requiredRdns(Set<String> v) {
      this.requiredRdns = Set.copyOf(v);
      return this;
    }

    public Builder allowedRdns(Set<String> v) {
      this.allowedRdns = Set.copyOf(v);
      return this;
    }

    public Builder requiresApproval(boolean v) {
      this.requiresApproval = v;
      return this;
    }

    public Builder centralKeygen(boolean v) {
      this.centralKeygen = v;
      return this;
    }

    public Builder archivePrivateKey(boolean v) {
      this.archivePrivateKey = v;
      return this;
    }

    public Builder enrollers(Enrollers v) {
      this.enrollers = v;
      return this;
    }

    public Builder subjectAltNames(SanPolicy v) {
      this.subjectAltNames = v;
      return this;
    }

    public Builder certificatePolicies(List<ASN1ObjectIdentifier> v) {
      this.certificatePolicies = List.copyOf(v);
      return this;
    }

    public Builder cpsUri(String v) {
      this.cpsUri = v == null || v.isBlank() ? null : v;
      return this;
    }

    public Builder approvals(int v) {
      this.approvals = v;
      return this;
    }

    public Builder renewalWindow(Duration v) {
      this.renewalWindow = v;
      return this;
    }

    /** Makes it a template of CA certificates with these constraints (null: end-entity certificates). */
    public Builder subordinate(Subordination v) {
      this.subordinate = v;
      return this;
    }

    /** The template, or {@link Invalid} naming the first field that breaks a rule. */
    public Template build() {
      if (name == null || name.isBlank()) {
        throw new Invalid("name", "is required");
      }
      if (validity == null || validity.isNegative() || validity.isZero()) {
        throw new Invalid("validityDays", "must be positive");
      }
      if (archivePrivateKey && (keyUsage & KEY_ESTABLISHMENT) == 0) {
        throw new Invalid("archivePrivateKey", "template " + name + " archives private keys, but its keyUsage is "
            + "signature-only: archival is for keys that encrypt or agree keys (add keyEncipherment, keyAgreement "
            + "or dataEncipherment to keyUsage, or set archivePrivateKey: false)");
      }
      if (centralKeygen && !archivePrivateKey) {
        throw new Invalid("centralKeygen", "template " + name + " would generate keys in the CA's HSM without "
            + "archiving them: central key generation is escrow here (set archivePrivateKey: true, or centralKeygen: "
            + "false)");
      }
      if (archivePrivateKey && requiresApproval) {
        throw new Invalid("archivePrivateKey", "a template cannot both archive keys and wait for approval (not "
            + "supported)");
      }
      if (!allowedRdns.containsAll(requiredRdns)) {
        throw new Invalid("requiredRdns", "every required RDN must also be in allowedRdns");
      }
      checkEnrollers();
      checkPolicies();
      if (approvals < 1 || approvals > 5) {
        throw new Invalid("approvals", "must be 1 to 5, not " + approvals);
      }
      if (approvals > 1 && !requiresApproval) {
        throw new Invalid("approvals", "template " + name + " needs " + approvals + " approvals but issues at once: "
            + "set requiresApproval: true");
      }
      if (renewalWindow == null || renewalWindow.isNegative()) {
        throw new Invalid("renewalWindowDays", "must be 0 (renew at any time) or a number of days");
      }
      if (renewalWindow.compareTo(validity) >= 0 && !renewalWindow.isZero()) {
        throw new Invalid("renewalWindowDays", "must be shorter than the validity (" + validity.toDays() + " days), "
            + "or 0 for renewal at any time");
      }
      if (subordinate != null) {
        checkSubordination();
      }
      Map<SanType, SanPolicy.Rule> rules = new LinkedHashMap<>();
      for (Map.Entry<SanType, SanPolicy.Rule> e : subjectAltNames.rules().entrySet()) {
        rules.put(e.getKey(), checkedRule(e.getKey(), e.getValue()));
      }
      return new Template(name, validity, keyUsage, List.copyOf(extendedKeyUsages), rsaMinBits, Set.copyOf(ecCurves),
          Set.copyOf(requiredRdns), Set.copyOf(allowedRdns), requiresApproval, archivePrivateKey, enrollers,
          new SanPolicy(rules), List.copyOf(certificatePolicies), cpsUri, approvals, renewalWindow,
          subordinate, centralKeygen);
    }

    private void checkPolicies() {
      if (new java.util.HashSet<>(certificatePolicies).size() != certificatePolicies.size()) {
        throw new Invalid("certificatePolicies", "names a policy twice");
      }
      if (cpsUri != null) {
        if (certificatePolicies.isEmpty()) {
          throw new Invalid("cpsUri", "qualifies the template's certificatePolicies, and it has none");
        }
        java.net.URI u;
        try {
          u = new java.net.URI(cpsUri);
        } catch (java.net.URISyntaxException e) {
          throw new Invalid("cpsUri", "'" + cpsUri + "' is not a URI");
        }
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
          throw new Invalid("cpsUri", "must be an http or https URL, not '" + cpsUri + "'");
        }
      }
    }

    /**
     * The rules of a template of CA certificates: a manager approves each one, only administrators ask for them,
     * the key usage is a CA's, and its names and policies are well formed (RFC 5280 4.2.1.5, 4.2.1.10).
     */
    private void checkSubordination() {
      if (!requiresApproval) {
        throw new Invalid("requiresApproval", "template " + name + " issues CA certificates (subordinateCa), so a "
            + "manager must approve each one: set requiresApproval: true");
      }
      if (archivePrivateKey) {
        throw new Invalid("archivePrivateKey", "a CA's key is never archived (template " + name + " issues CA "
            + "certificates)");
      }
      if ((keyUsage & ~KeyUsage.digitalSignature) != 0) {
        throw new Invalid("keyUsage", "a CA certificate's key usage is keyCertSign and cRLSign, which keyarc sets; "
            + "only digitalSignature may be added (template " + name + ")");
      }
      if (!subjectAltNames.rules().isEmpty()) {
        throw new Invalid("subjectAltNames", "a CA certificate carries no subjectAltName here (template " + name
            + "): constrain the names it may issue with subordinateCa.permitted");
      }
      boolean othersAsk = enrollers.secretCreators().stream().anyMatch(r -> r != org.keyarc.ca.store.Role.ADMINISTRATOR)
          || enrollers.roles().stream().anyMatch(r -> r != org.keyarc.ca.store.Role.ADMINISTRATOR)
          || enrollers.holdersOf().stream().anyMatch(h -> !h.equals(name));
      if (othersAsk) {
        throw new Invalid("enroll", "only administrators may ask for CA certificates (template " + name + "): "
            + "enroll.secretCreators and enroll.roles may name administrator only, enroll.holdersOf this template "
            + "only (renewal)");
      }
      Subordination sub = subordinate;
      if (sub.pathLen() < -1) {
        throw new Invalid("subordinateCa.pathLen", "must be -1 (none) or at least 0, not " + sub.pathLen());
      }
      for (String[] f : new String[][] {{"requireExplicitPolicy", "" + sub.requireExplicitPolicy()},
          {"inhibitPolicyMapping", "" + sub.inhibitPolicyMapping()}, {"inhibitAnyPolicy", "" + sub.inhibitAnyPolicy()}}) {
        if (Integer.parseInt(f[1]) < -1) {
          throw new Invalid("subordinateCa." + f[0], "must be -1 (none) or at least 0, not " + f[1]);
        }
      }
      for (String field : new String[] {"permitted", "excluded"}) {
        for (String t : field.equals("permitted") ? sub.permitted() : sub.excluded()) {
          try {
            Subordination.subtree(t);
          } catch (IllegalArgumentException e) {
            throw new Invalid("subordinateCa." + field, e.getMessage());
          }
        }
      }
      for (String m : sub.policyMappings()) {
        ASN1ObjectIdentifier[] pair;
        try {
          pair = Subordination.mapping(m);
        } catch (IllegalArgumentException e) {
          throw new Invalid("subordinateCa.policyMappings", e.getMessage());
        }
        if (pair[0].equals(Subordination.ANY_POLICY) || pair[1].equals(Subordination.ANY_POLICY)) {
          throw new Invalid("subordinateCa.policyMappings", "anyPolicy is never mapped to or from (RFC 5280 4.2.1.5)");
        }
        if (!certificatePolicies.contains(pair[0])) {
          throw new Invalid("subordinateCa.policyMappings", "maps " + pair[0] + ", which the template's "
              + "certificatePolicies do not assert");
        }
      }
    }

    private void checkEnrollers() {
      if (enrollers == null || enrollers.nobody()) {
        throw new Invalid("enroll", "template " + name + " lets nobody enroll: allow one-time secrets (enroll.secret), "
            + "roles (enroll.roles) or holders of certificates of given templates (enroll.holdersOf)");
      }
      if (!Enrollers.SECRET_MAKERS.containsAll(enrollers.secretCreators())) {
        throw new Invalid("enroll.secretCreators", "may name manager and administrator only (they alone create "
            + "one-time secrets)");
      }
      if (enrollers.secret() && enrollers.secretCreators().isEmpty()) {
        throw new Invalid("enroll.secretCreators", "names nobody, but enroll.secret is true");
      }
    }

    private SanPolicy.Rule checkedRule(SanType type, SanPolicy.Rule r) {
      String at = "subjectAltNames." + type.configName();
      if (r.from() == null) {
        throw new Invalid(at + ".from", "is required: secret, approver or request");
      }
      if (r.from() == SanPolicy.Source.APPROVER && !requiresApproval) {
        throw new Invalid(at + ".from", "'approver' needs requiresApproval: true (template " + name + " issues at "
            + "once, with no manager to confirm the request's " + type.configName() + ")");
      }
      List<String> suffixes = r.suffixes().stream().map(s -> s.startsWith(".") ? s.substring(1) : s).toList();
      if (r.from() == SanPolicy.Source.REQUEST) {
        if (type != SanType.DNS_NAME && type != SanType.RFC822_NAME && type != SanType.UPN) {
          throw new Invalid(at + ".from", "'request' is for dNSName, rfc822Name and upn (checked against suffixes); "
              + "take " + type.configName() + " from the secret or the approver");
        }
        if (suffixes.isEmpty()) {
          throw new Invalid(at + ".suffixes", "must list the domains a requested " + type.configName()
              + " may fall under (a request value is never taken unchecked)");
        }
        for (String s : suffixes) {
          if (!SanType.isHostName(s)) {
            throw new Invalid(at + ".suffixes", "'" + s + "' is not a domain name");
          }
        }
      } else if (!suffixes.isEmpty()) {
        throw new Invalid(at + ".suffixes", "only applies with from: request");
      }
      return new SanPolicy.Rule(r.from(), suffixes, r.required());
    }
  }
}
