package org.keyarc.ca.template;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.keyarc.ca.store.Role;

/** The templates a CA offers: the three built in, then those of the configuration (which may replace them). */
public final class Templates {
  public static final String KEY_RECOVERY_AGENT = "KeyRecoveryAgent";
  public static final String EXCHANGE_USER = "ExchangeUserKeyArc";
  public static final String USER = "User";
  public static final String SUB_CA = "SubCA";
  /** The dual-certificate pair for S/MIME: signing (never archived) and encryption (always archived). */
  public static final String SMIME_SIGNATURE = "SmimeSignature";
  public static final String SMIME_ENCRYPTION = "SmimeEncryption";

  static final Set<ASN1ObjectIdentifier> NIST_CURVES = Set.of(SECObjectIdentifiers.secp256r1,
      SECObjectIdentifiers.secp384r1);
  static final Set<String> DEFAULT_ALLOWED_RDNS = Set.of("CN", "O", "OU", "C", "L", "ST", "E", "SERIALNUMBER");

  private volatile Map<String, Template> byName;
  private volatile Map<String, Integer> versions = Map.of();

  private Templates(Collection<Template> all) {
    byName = index(all);
  }

  private static Map<String, Template> index(Collection<Template> all) {
    Map<String, Template> m = new LinkedHashMap<>();
    for (Template t : all) {
      Template fixed = t;
      if (t.name().equals(KEY_RECOVERY_AGENT) && !t.requiresApproval()) {
        fixed = t.toBuilder().requiresApproval(true).build(); // agent certificates are issued by hand, always
      }
      m.put(fixed.name(), fixed);
    }
    return java.util.Collections.unmodifiableMap(m);
  }

  /**
   * From now on the CA offers exactly {@code all} (the store's enabled templates, {@code catalog/TemplateCatalog}):
   * the next enrollment on any of them uses its new definition.
   */
  public void replace(Collection<Template> all) {
    replace(all, Map.of());
  }

  /** Like {@link #replace(Collection)}, with each template's version in the store (by name). */
  public void replace(Collection<Template> all, Map<String, Integer> versionsByName) {
    byName = index(all);
    versions = Map.copyOf(versionsByName);
  }

  /** The version of template {@code name} in the store, or 0 before templates are in the store. */
  public int version(String name) {
    return versions.getOrDefault(name, 0);
  }

  /**
   * The built-in templates. Who may enroll: KeyRecoveryAgent only with a one-time secret a manager or
   * administrator made for it; User and ExchangeUserKeyArc with a one-time secret, or (a renewal) with a
   * certificate of the same template. Their subjectAltNames come from the secret only (an e-mail address,
   * and for User a UPN), never from the request. SubCA (ADCS's Subordinate Certification Authority): CA
   * certificates for a subordinate CA or another CA's key (a cross-certificate), asked for with a secret only an
   * administrator makes and issued only once a manager approves; pathLenConstraint 0 and no other constraints —
   * duplicate it and set its name and policy constraints for qualified subordination. SmimeSignature and
   * SmimeEncryption: the dual-certificate pattern for S/MIME — one key that signs (digitalSignature and
   * nonRepudiation, never archived: a signing key has no business outside its holder) and one that encrypts
   * (keyEncipherment for RSA, keyAgreement for EC, always archived), both with the e-mail address from the
   * secret, which they require.
   */
  public static List<Template> builtIn() {
    SanPolicy emailFromSecret = new SanPolicy(Map.of(SanType.RFC822_NAME, SanPolicy.Rule.from(SanPolicy.Source.SECRET)));
    SanPolicy emailRequired = new SanPolicy(Map.of(SanType.RFC822_NAME, new SanPolicy.Rule(SanPolicy.Source.SECRET,
        List.of(), true)));
    return List.of(
        // The seed's "Manually Issue the Key Recovery Agent Certificate at the CA": always pending.
        // RSA only: archived keys are wrapped to agents with RSA-OAEP.
        Template.builder(KEY_RECOVERY_AGENT).validity(Duration.ofDays(730))
            .keyUsage(KeyUsage.keyEncipherment | KeyUsage.digitalSignature)
            .extendedKeyUsages(List.of(Template.EKU_KEY_RECOVERY_AGENT)).rsaMinBits(2048).ecCurves(Set.of())
            .requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS).requiresApproval(true)
            .enrollers(Enrollers.secretOnly()).subjectAltNames(emailFromSecret).build(),
        // ADCS's Exchange User: S/MIME encryption, the e-mail address in the SAN, the key archived.
        // EC keys get keyAgreement instead of the encipherment bits (keys/CertFactory).
        Template.builder(EXCHANGE_USER).validity(Duration.ofDays(365))
            .keyUsage(KeyUsage.keyEncipherment | KeyUsage.dataEncipherment)
            .extendedKeyUsages(List.of(KeyPurposeId.id_kp_emailProtection.toOID())).rsaMinBits(2048)
            .ecCurves(NIST_CURVES).requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS).archivePrivateKey(true)
            .centralKeygen(true).enrollers(Enrollers.secretOrHoldersOf(EXCHANGE_USER)).subjectAltNames(emailFromSecret).build(),
        Template.builder(USER).validity(Duration.ofDays(365))
            .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
            .extendedKeyUsages(List.of(KeyPurposeId.id_kp_clientAuth.toOID(), KeyPurposeId.id_kp_emailProtection.toOID()))
            .rsaMinBits(2048).ecCurves(NIST_CURVES).requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS)
            .enrollers(Enrollers.secretOrHoldersOf(USER))
            .subjectAltNames(new SanPolicy(Map.of(SanType.RFC822_NAME, SanPolicy.Rule.from(SanPolicy.Source.SECRET),
                SanType.UPN, SanPolicy.Rule.from(SanPolicy.Source.SECRET)))).build(),
        Template.builder(SUB_CA).validity(Duration.ofDays(1825)).keyUsage(KeyUsage.digitalSignature)
            .rsaMinBits(2048).ecCurves(NIST_CURVES).requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS)
            .requiresApproval(true).enrollers(new Enrollers(true, Set.of(Role.ADMINISTRATOR), Set.of(), Set.of()))
            .subordinate(new Subordination(0, List.of(), List.of(), List.of(), -1, -1, -1)).build(),
        Template.builder(SMIME_SIGNATURE).validity(Duration.ofDays(365))
            .keyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation)
            .extendedKeyUsages(List.of(KeyPurposeId.id_kp_emailProtection.toOID())).rsaMinBits(2048)
            .ecCurves(NIST_CURVES).requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS)
            .enrollers(Enrollers.secretOrHoldersOf(SMIME_SIGNATURE)).subjectAltNames(emailRequired).build(),
        Template.builder(SMIME_ENCRYPTION).validity(Duration.ofDays(365)).keyUsage(KeyUsage.keyEncipherment)
            .extendedKeyUsages(List.of(KeyPurposeId.id_kp_emailProtection.toOID())).rsaMinBits(2048)
            .ecCurves(NIST_CURVES).requiredRdns(Set.of("CN")).allowedRdns(DEFAULT_ALLOWED_RDNS).archivePrivateKey(true)
            .enrollers(Enrollers.secretOrHoldersOf(SMIME_ENCRYPTION)).subjectAltNames(emailRequired).build());
  }

  /**
   * The built-in templates overlaid with {@code configured} ones (same name replaces). A configured
   * KeyRecoveryAgent template always keeps {@code requiresApproval}: agent certificates are issued by
   * hand, never automatically.
   */
  public static Templates of(Collection<Template> configured) {
    Map<String, Template> all = new LinkedHashMap<>();
    for (Template t : builtIn()) {
      all.put(t.name(), t);
    }
    for (Template t : configured) {
      Template fixed = t;
      if (t.name().equals(KEY_RECOVERY_AGENT) && !t.requiresApproval()) {
        fixed = t.toBuilder().requiresApproval(true).build();
      }
      all.put(fixed.name(), fixed);
    }
    return new Templates(all.values());
  }

  public Optional<Template> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The template named {@code name}, or UNKNOWN_TEMPLATE naming the ones this CA offers. */
  public Template require(String name) throws org.keyarc.ca.CaException {
    return find(name).orElseThrow(() -> new org.keyarc.ca.CaException(org.keyarc.protocol.ErrorCode.UNKNOWN_TEMPLATE,
        "unknown template '" + org.keyarc.ca.support.Texts.printable(name) + "'; this CA offers "
            + String.join(", ", all().stream().map(Template::name).toList())));
  }

  public Collection<Template> all() {
    return byName.values();
  }
}
