package org.keyarc.ca.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.SanPolicy;
import org.keyarc.ca.template.SanType;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;

/** A template's enrollment permissions and subjectAltName policy in the configuration: parsed, defaulted, each error naming its field. */
class TemplatePolicyConfigTest {
  @TempDir
  Path dir;

  private List<Template> templates(String... lines) throws Exception {
    Path f = dir.resolve("ca.yaml");
    Files.writeString(f, "hsm:\n  module: /x/lib.so\ntemplates:\n" + String.join("\n", lines) + "\n");
    return NodeConfig.load(f).configuredTemplates();
  }

  private String error(String... lines) {
    Path f = dir.resolve("ca.yaml");
    return assertThrows(ConfigException.class, () -> {
      Files.writeString(f, "hsm:\n  module: /x/lib.so\ntemplates:\n" + String.join("\n", lines) + "\n");
      NodeConfig.load(f);
    }).getMessage().replace(f + ": ", "");
  }

  @Test
  void archivalOnASignatureOnlyTemplateIsRefusedNamingTheTemplateAndField() {
    String e = error("  - name: Signer", "    keyUsage: [digitalSignature, nonRepudiation]", "    archivePrivateKey: true");
    assertTrue(e.startsWith("field 'templates[0].archivePrivateKey' template Signer archives private keys, but its "
        + "keyUsage is signature-only"), e);
  }

  @Test
  void centralKeyGenerationWithoutArchivalIsRefused() throws Exception {
    String e = error("  - name: Gen", "    keyUsage: [keyEncipherment]", "    centralKeygen: true");
    assertTrue(e.startsWith("field 'templates[0].centralKeygen' template Gen would generate keys in the CA's HSM "
        + "without archiving them"), e);
    assertTrue(templates("  - name: Gen", "    keyUsage: [keyEncipherment]", "    archivePrivateKey: true",
        "    centralKeygen: true").get(0).centralKeygen());
  }

  @Test
  void archivalWithKeyAgreementOrEnciphermentIsAccepted() throws Exception {
    assertTrue(templates("  - name: Agree", "    keyUsage: [keyAgreement]", "    archivePrivateKey: true").get(0)
        .archivePrivateKey());
    assertTrue(templates("  - name: Enc", "    keyUsage: [digitalSignature, keyEncipherment]",
        "    archivePrivateKey: true").get(0).archivePrivateKey());
  }

  @Test
  void enrollDefaultsToSecretsAndRenewalAndIsParsed() throws Exception {
    Template plain = templates("  - name: Web").get(0);
    assertTrue(plain.enrollers().secret());
    assertEquals(Set.of("Web"), plain.enrollers().holdersOf(), "holders of the same template renew");
    assertEquals(Set.of(), plain.enrollers().roles());
    Template kra = templates("  - name: KeyRecoveryAgent", "    requiresApproval: true").get(0);
    assertEquals(Set.of(), kra.enrollers().holdersOf(), "agent certificates only with a secret");
    Template t = templates("  - name: Ops", "    enroll:", "      secret: false", "      roles: [manager]",
        "      holdersOf: [User]").get(0);
    assertEquals(Set.of(Role.MANAGER), t.enrollers().roles());
    assertEquals(Set.of("User"), t.enrollers().holdersOf());
    assertTrue(!t.enrollers().secret());
  }

  @Test
  void enrollErrorsNameTheirField() {
    assertTrue(error("  - name: Nobody", "    enroll:", "      secret: false").startsWith(
        "field 'templates[0].enroll' template Nobody lets nobody enroll"), "nobody");
    assertTrue(error("  - name: X", "    enroll:", "      roles: [janitor]").startsWith(
        "field 'templates[0].enroll.roles' unknown role 'janitor'"));
    assertTrue(error("  - name: X", "    enroll:", "      secretCreators: [auditor]").startsWith(
        "field 'templates[0].enroll.secretCreators' may name manager and administrator only"));
    assertTrue(error("  - name: X", "    enroll:", "      holdersOf: [Nope]").startsWith(
        "field 'templates[0].enroll.holdersOf' names template 'Nope', which this CA does not offer"));
  }

  @Test
  void subjectAltNamesAreParsed() throws Exception {
    Template t = templates("  - name: Web", "    requiresApproval: true", "    subjectAltNames:",
        "      dNSName: {from: request, suffixes: [.corp.example], required: true}",
        "      iPAddress: {from: approver}", "      rfc822Name: {from: secret}").get(0);
    SanPolicy.Rule dns = t.subjectAltNames().rule(SanType.DNS_NAME).orElseThrow();
    assertEquals(SanPolicy.Source.REQUEST, dns.from());
    assertEquals(List.of("corp.example"), dns.suffixes());
    assertTrue(dns.required());
    assertEquals(SanPolicy.Source.APPROVER, t.subjectAltNames().rule(SanType.IP_ADDRESS).orElseThrow().from());
    assertTrue(t.subjectAltNames().rule(SanType.URI).isEmpty());
    assertTrue(templates("  - name: Plain").get(0).subjectAltNames().rules().isEmpty(), "none unless configured");
  }

  @Test
  void subjectAltNameErrorsNameTheirField() {
    assertTrue(error("  - name: W", "    subjectAltNames:", "      x400Address: {from: secret}").startsWith(
        "field 'templates[0].subjectAltNames' unknown subjectAltName type 'x400Address'"));
    assertTrue(error("  - name: W", "    subjectAltNames:", "      dNSName: {from: anyone}").startsWith(
        "field 'templates[0].subjectAltNames.dNSName.from' must be secret, approver or request"));
    assertTrue(error("  - name: W", "    subjectAltNames:", "      dNSName: {from: request}").startsWith(
        "field 'templates[0].subjectAltNames.dNSName.suffixes' must list the domains"));
    assertTrue(error("  - name: W", "    subjectAltNames:", "      iPAddress: {from: request, suffixes: [x.example]}")
        .startsWith("field 'templates[0].subjectAltNames.iPAddress.from' 'request' is for dNSName"));
    assertTrue(error("  - name: W", "    subjectAltNames:", "      dNSName: {from: approver}").startsWith(
        "field 'templates[0].subjectAltNames.dNSName.from' 'approver' needs requiresApproval: true"));
    assertTrue(error("  - name: W", "    subjectAltNames:", "      dNSName: {from: secret, suffixes: [a.example]}")
        .startsWith("field 'templates[0].subjectAltNames.dNSName.suffixes' only applies with from: request"));
  }

  @Test
  void builtInsTakeNamesFromTheSecretOnly() {
    Templates all = Templates.of(List.of());
    for (Template t : all.all()) {
      t.subjectAltNames().rules().values().forEach(r -> assertEquals(SanPolicy.Source.SECRET, r.from(), t.name()));
      assertTrue(t.enrollers().roles().isEmpty(), t.name() + ": no role is an enrollment permission");
    }
    assertEquals(Set.of(), all.find(Templates.KEY_RECOVERY_AGENT).orElseThrow().enrollers().holdersOf());
    assertEquals(Set.of(Templates.USER), all.find(Templates.USER).orElseThrow().enrollers().holdersOf());
    assertTrue(all.find(Templates.EXCHANGE_USER).orElseThrow().subjectAltNames().rule(SanType.RFC822_NAME)
        .isPresent());
  }

  /** A template of CA certificates (qualified subordination): its rules, each error naming its field. */
  @Test
  void subordinateCaTemplatesKeepTheirRules() throws Exception {
    String[] base = {"  - name: Sub", "    keyUsage: [digitalSignature]", "    requiresApproval: true",
        "    enroll: {secretCreators: [administrator]}", "    certificatePolicies: [1.2.3.4]",
        "    cpsUri: https://pki.example/cps", "    subordinateCa:", "      pathLen: 1",
        "      permitted: [dns:example.com, 'dir:O=Example,C=DE', ip:10.0.0.0/8, email:.example.com]",
        "      policyMappings: [1.2.3.4=1.2.3.5]"};
    Template t = templates(base).get(0);
    assertTrue(t.issuesCaCertificates());
    assertEquals(1, t.subordinate().pathLen());
    assertEquals(List.of(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.3.4")), t.certificatePolicies());
    assertTrue(error(with(base, "    requiresApproval: true", "    requiresApproval: false")).startsWith(
        "field 'templates[0].requiresApproval' template Sub issues CA certificates"));
    assertTrue(error(with(base, "    keyUsage: [digitalSignature]", "    keyUsage: [keyEncipherment]")).startsWith(
        "field 'templates[0].keyUsage' a CA certificate's key usage is keyCertSign and cRLSign"));
    assertTrue(error(with(base, "    enroll: {secretCreators: [administrator]}",
        "    enroll: {secretCreators: [manager]}")).startsWith("field 'templates[0].enroll' only administrators"));
    assertTrue(error(with(base, "      permitted: [dns:example.com, 'dir:O=Example,C=DE', ip:10.0.0.0/8, "
        + "email:.example.com]", "      permitted: [dns:exa mple]")).startsWith(
        "field 'templates[0].subordinateCa.permitted' 'exa mple' is not a domain name"));
    assertTrue(error(with(base, "      permitted: [dns:example.com, 'dir:O=Example,C=DE', ip:10.0.0.0/8, "
        + "email:.example.com]", "      permitted: [ip:10.0.0.1]")).contains("needs a prefix length"));
    assertTrue(error(with(base, "      policyMappings: [1.2.3.4=1.2.3.5]", "      policyMappings: [1.2.3.4=2.5.29.32.0]"))
        .contains("anyPolicy is never mapped"));
    assertTrue(error(with(base, "      policyMappings: [1.2.3.4=1.2.3.5]", "      policyMappings: [1.9.9=1.2.3.5]"))
        .startsWith("field 'templates[0].subordinateCa.policyMappings' maps 1.9.9, which the template's "
            + "certificatePolicies do not assert"));
    assertTrue(error(with(base, "    cpsUri: https://pki.example/cps", "    cpsUri: ftp://pki.example/cps"))
        .startsWith("field 'templates[0].cpsUri' must be an http or https URL"));
    assertTrue(error(with(base, "      pathLen: 1", "      pathLen: -2")).startsWith(
        "field 'templates[0].subordinateCa.pathLen' must be -1 (none) or at least 0"));
    assertTrue(error("  - name: P", "    certificatePolicies: [not-an-oid]").startsWith(
        "field 'templates[0].certificatePolicies' 'not-an-oid' is not a dotted OID"));
  }

  private static String[] with(String[] lines, String old, String replacement) {
    String[] out = lines.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i].equals(old)) {
        out[i] = replacement;
        return out;
      }
    }
    throw new AssertionError("no line " + old);
  }
}
