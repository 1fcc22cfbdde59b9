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

/** The templates a CA offers: the three built in, then those of the configuration (which may replace them). */
public final class Templates {
  public static final String KEY_RECOVERY_AGENT = "KeyRecoveryAgent";
  public static final String EXCHANGE_USER = "ExchangeUserKeyArc";
  public static final String USER = "User";

  static final Set<ASN1ObjectIdentifier> NIST_CURVES = Set.of(SECObjectIdentifiers.secp256r1,
      SECObjectIdentifiers.secp384r1);
  static final Set<String> DEFAULT_ALLOWED_RDNS = Set.of("CN", "O", "OU", "C", "L", "ST", "E", "SERIALNUMBER");

  private final Map<String, Template> byName = new LinkedHashMap<>();

  private Templates(Collection<Template> all) {
    for (Template t : all) {
      byName.put(t.name(), t);
    }
  }

  /** The built-in templates. */
  public static List<Template> builtIn() {
    return List.of(
        // The seed's "Manually Issue the Key Recovery Agent Certificate at the CA": always pending.
        // RSA only: archived keys are wrapped to agents with RSA-OAEP.
        new Template(KEY_RECOVERY_AGENT, Duration.ofDays(730), KeyUsage.keyEncipherment | KeyUsage.digitalSignature,
            List.of(Template.EKU_KEY_RECOVERY_AGENT), 2048, Set.of(), Set.of("CN"), DEFAULT_ALLOWED_RDNS, true, false),
        new Template(EXCHANGE_USER, Duration.ofDays(365), KeyUsage.keyEncipherment | KeyUsage.dataEncipherment,
            List.of(KeyPurposeId.id_kp_emailProtection.toOID()), 2048, NIST_CURVES, Set.of("CN"),
            DEFAULT_ALLOWED_RDNS, false, true),
        new Template(USER, Duration.ofDays(365), KeyUsage.digitalSignature | KeyUsage.keyEncipherment,
            List.of(KeyPurposeId.id_kp_clientAuth.toOID(), KeyPurposeId.id_kp_emailProtection.toOID()), 2048,
            NIST_CURVES, Set.of("CN"), DEFAULT_ALLOWED_RDNS, false, false));
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
        fixed = new Template(t.name(), t.validity(), t.keyUsage(), t.extendedKeyUsages(), t.rsaMinBits(),
            t.ecCurves(), t.requiredRdns(), t.allowedRdns(), true, t.archivePrivateKey());
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
