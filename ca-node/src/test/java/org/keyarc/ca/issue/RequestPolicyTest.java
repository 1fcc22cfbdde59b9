package org.keyarc.ca.issue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * Template, subject and names choice. Only a certificate holder's credential reads the certificate store;
 * the cases here never get that far, so the queries have no store (and refusals are not audited).
 */
class RequestPolicyTest {
  private final RequestPolicy policy = new RequestPolicy(Templates.of(List.of()),
      new CertificateQueries(null, "CN=Test CA"), Templates.USER);

  private static SecretService.SecretGrant secret(String template, String subject) {
    Instant now = Instant.now();
    return new SecretService.SecretGrant(new SecretRecord("ref-1", new byte[16], "hash", template, subject, "admin",
        now, now.plusSeconds(600), null), "s3cret".toCharArray());
  }

  private static Identity holder(String subject) {
    return new Identity(Identity.Kind.CERTIFICATE, subject, Set.of());
  }

  private static CaException refused(ErrorCode code, Executable call) {
    CaException e = assertThrows(CaException.class, call);
    assertEquals(code, e.code(), e.getMessage());
    return e;
  }

  @Test
  void theSecretsTemplateAndSubjectWin() throws CaException {
    SecretService.SecretGrant s = secret(Templates.EXCHANGE_USER, "CN=bob,O=Example");
    assertEquals(Templates.EXCHANGE_USER, policy.template(s, null).name());
    assertEquals(Templates.EXCHANGE_USER, policy.template(s, Templates.EXCHANGE_USER).name());
    assertEquals(new X500Name("CN=bob,O=Example"), policy.subject(null, s, null));
    assertEquals(new X500Name("CN=bob,O=Example"),
        policy.subject(null, s, new X500Name(new org.bouncycastle.asn1.x500.RDN[0])));
    assertEquals(new X500Name("CN=bob,O=Example"),
        policy.subject(holder("CN=carol"), s, new X500Name("CN=bob,O=Example")));
  }

  @Test
  void anotherTemplateThanTheSecretsIsNotAuthorized() {
    CaException e = refused(ErrorCode.NOT_AUTHORIZED,
        () -> policy.template(secret(Templates.EXCHANGE_USER, "CN=bob"), Templates.USER));
    assertTrue(e.getMessage().contains("for template " + Templates.EXCHANGE_USER + ", not User"), e.getMessage());
  }

  @Test
  void anotherSubjectThanTheSecretsIsRefused() {
    refused(ErrorCode.BAD_SUBJECT,
        () -> policy.subject(null, secret(Templates.USER, "CN=bob"), new X500Name("CN=eve")));
  }

  @Test
  void withoutASecretTheAskedTemplateElseTheDefault() throws CaException {
    assertEquals(Templates.USER, policy.template(null, null).name());
    assertEquals(Templates.EXCHANGE_USER, policy.template(null, Templates.EXCHANGE_USER).name());
    refused(ErrorCode.UNKNOWN_TEMPLATE, () -> policy.template(null, "NoSuchTemplate"));
  }

  @Test
  void aCertificateHolderGetsItsOwnSubjectOnly() throws CaException {
    Identity alice = holder("CN=alice,O=Example");
    assertEquals(new X500Name("CN=alice,O=Example"), policy.subject(alice, null, null));
    assertEquals(new X500Name("CN=alice,O=Example"),
        policy.subject(alice, null, new X500Name("CN=alice,O=Example")));
    CaException e = refused(ErrorCode.BAD_SUBJECT, () -> policy.subject(alice, null, new X500Name("CN=mallory")));
    assertTrue(e.getMessage().contains("its own subject"), e.getMessage());
  }

  @Test
  void noIdentityIsNotAuthorized() {
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.subject(null, null, new X500Name("CN=alice")));
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.subject(Identity.localOperator(), null, new X500Name("CN=x")));
  }

  @Test
  void keyUpdateNeedsTheSignerCertificate() {
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.keyUpdate(new RequestPolicy.Credential(null, null, null), null,
        null));
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.keyUpdate(new RequestPolicy.Credential(holder("CN=alice"), null,
        null), null, null));
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.keyUpdate(new RequestPolicy.Credential(
        new Identity(Identity.Kind.SECRET, "ref-1", Set.of()), secret(Templates.USER, "CN=a"), null), null, null));
  }

  @Test
  void aSecretsRequestGetsItsTemplateSubjectAndBoundNames() throws Exception {
    Instant now = Instant.now();
    byte[] names = new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
        org.bouncycastle.asn1.x509.GeneralName.rfc822Name, "bob@example.org")).getEncoded();
    SecretService.SecretGrant s = new SecretService.SecretGrant(new SecretRecord("ref-2", new byte[16], "hash",
        Templates.EXCHANGE_USER, "CN=bob", "admin", now, now.plusSeconds(600), null, names), new char[0]);
    RequestPolicy.Decision d = policy.enrollment(new RequestPolicy.Credential(
        new Identity(Identity.Kind.SECRET, "ref-2", Set.of()), s, null), null, null, null);
    assertEquals(Templates.EXCHANGE_USER, d.template().name());
    assertEquals(new X500Name("CN=bob"), d.subject());
    assertEquals(List.of("email:bob@example.org"), org.keyarc.ca.template.NameRules.texts(d.subjectAltNames()));
    refused(ErrorCode.NOT_AUTHORIZED, () -> policy.enrollment(new RequestPolicy.Credential(
        new Identity(Identity.Kind.SECRET, "ref-2", Set.of()), s, null), Templates.KEY_RECOVERY_AGENT, null, null));
  }
}
