package org.keyarc.ca.issue;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.template.Enrollers;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/** Who may enroll on a template: a secret for it, a named role, or a certificate of a named template. */
class EnrollPermissionsTest {
  private static final Templates T = Templates.of(List.of());
  private static final java.time.Instant NOW = java.time.Instant.now();

  private static RequestPolicy.Credential secret(String template) {
    Instant now = Instant.now();
    return new RequestPolicy.Credential(new Identity(Identity.Kind.SECRET, "ref", Set.of()),
        new SecretService.SecretGrant(new SecretRecord("ref", new byte[16], "h", template, "CN=a", "CN=m", now,
            now.plusSeconds(60), null), new char[0]), null);
  }

  private static RequestPolicy.Credential holder(String template, Role... roles) {
    Instant now = Instant.now();
    return new RequestPolicy.Credential(new Identity(Identity.Kind.CERTIFICATE, "CN=holder", Set.of(roles)), null,
        new CertRecord("CN=ca", BigInteger.TEN, "CN=holder", template, now, now, CertRecord.Status.ISSUED, null, null,
            null, null, "00", now, new byte[0], "tx"));
  }

  private static Template t(String name) {
    return T.find(name).orElseThrow();
  }

  private static void refused(Template t, RequestPolicy.Credential c, String text) {
    CaException e = assertThrows(CaException.class, () -> EnrollPermissions.check(t, c, NOW));
    assertEquals(ErrorCode.NOT_AUTHORIZED, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(text), e.getMessage());
  }

  @Test
  void keyRecoveryAgentOnlyWithItsOwnSecret() {
    Template kra = t(Templates.KEY_RECOVERY_AGENT);
    assertDoesNotThrow(() -> EnrollPermissions.check(kra, secret(Templates.KEY_RECOVERY_AGENT), NOW));
    refused(kra, secret(Templates.USER), "the one-time secret is for template User, not KeyRecoveryAgent");
    refused(kra, holder(Templates.USER), "CN=holder (certificate of template User) may not enroll on template "
        + "KeyRecoveryAgent; it takes a one-time secret for it (made by an administrator or a manager)");
    refused(kra, holder(Templates.USER, Role.ADMINISTRATOR), "certificate of template User, administrator");
    refused(kra, holder(Templates.KEY_RECOVERY_AGENT, Role.MANAGER), "may not enroll");
  }

  @Test
  void usersRenewWithACertificateOfTheSameTemplate() {
    assertDoesNotThrow(() -> EnrollPermissions.check(t(Templates.USER), holder(Templates.USER), NOW));
    assertDoesNotThrow(() -> EnrollPermissions.check(t(Templates.EXCHANGE_USER), holder(Templates.EXCHANGE_USER), NOW));
    refused(t(Templates.EXCHANGE_USER), holder(Templates.USER), "may not enroll on template ExchangeUserKeyArc");
    refused(t(Templates.USER), holder(Templates.EXCHANGE_USER), "may not enroll on template User");
  }

  @Test
  void rolesAndTemplatesAsConfigured() {
    Template ops = Template.builder("Ops").keyUsage(1).enrollers(new Enrollers(false, Set.of(),
        Set.of(Role.MANAGER), Set.of())).build();
    assertDoesNotThrow(() -> EnrollPermissions.check(ops, holder(Templates.USER, Role.MANAGER), NOW));
    refused(ops, holder(Templates.USER, Role.ADMINISTRATOR), "it takes the certificate of a manager");
    refused(ops, secret("Ops"), "a one-time secret may not enroll on template Ops");
    refused(ops, new RequestPolicy.Credential(null, null, null), "must be protected");
  }

  /** A template's renewal window: a holder renews on it (or by kur) only in the last days of its certificate. */
  @Test
  void renewalOnlyWithinTheWindow() throws Exception {
    Template user = t(Templates.USER).toBuilder().renewalWindow(java.time.Duration.ofDays(30)).build();
    CertRecord early = new CertRecord("CN=ca", BigInteger.TEN, "CN=holder", Templates.USER, NOW, NOW.plus(
        java.time.Duration.ofDays(200)), CertRecord.Status.ISSUED, null, null, null, null, "00", NOW, new byte[0], "tx");
    RequestPolicy.Credential c = new RequestPolicy.Credential(new Identity(Identity.Kind.CERTIFICATE, "CN=holder",
        Set.of()), null, early);
    CaException e = assertThrows(CaException.class, () -> EnrollPermissions.check(user, c, NOW));
    assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
    assertTrue(e.getMessage().contains("certificate a can be renewed from ") && e.getMessage().contains(
        "30 days before it expires (template User's renewalWindowDays)"), e.getMessage());
    assertDoesNotThrow(() -> EnrollPermissions.check(user, c, NOW.plus(java.time.Duration.ofDays(171))),
        "within the last 30 days");
    assertThrows(CaException.class, () -> EnrollPermissions.renewal(user, early, NOW), "kur keeps the same window");
    assertDoesNotThrow(() -> EnrollPermissions.check(t(Templates.USER), c, NOW), "no window: at any time");
    assertThrows(Template.Invalid.class, () -> t(Templates.USER).toBuilder().renewalWindow(java.time.Duration
        .ofDays(400)).build(), "a window longer than the validity is refused");
  }
}
