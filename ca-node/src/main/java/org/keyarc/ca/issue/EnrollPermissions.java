package org.keyarc.ca.issue;

import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.Enrollers;
import org.keyarc.ca.template.Template;
import org.keyarc.protocol.ErrorCode;

/**
 * Who may enroll on a template ({@link Enrollers}, ADCS's Enroll permission), checked before anything is
 * stored: a request for a template its sender may not use is refused NOT_AUTHORIZED, never queued.
 */
public final class EnrollPermissions {
  private EnrollPermissions() {}

  /**
   * Refuses NOT_AUTHORIZED unless {@code c} holds a permission {@code t} names; a holder renewing on its own
   * template only within the template's renewal window ({@link #renewal}).
   */
  public static void check(Template t, RequestPolicy.Credential c, java.time.Instant now) throws CaException {
    Enrollers e = t.enrollers();
    if (c.secret() != null) {
      if (!c.secret().record().template().equals(t.name())) {
        throw new CaException(ErrorCode.NOT_AUTHORIZED, "the one-time secret is for template "
            + c.secret().record().template() + ", not " + t.name());
      }
      if (e.secret()) {
        return;
      }
      throw refused(t, "a one-time secret");
    }
    Identity who = c.who();
    if (who == null || who.kind() != Identity.Kind.CERTIFICATE) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate requests must be protected");
    }
    for (Role r : e.roles()) {
      if (who.has(r)) {
        return;
      }
    }
    if (c.signer() != null && e.holdersOf().contains(c.signer().template())) {
      // a holder's certificate as the permission, on this template or another (A to B and back to A): the window
      // of the template asked for, measured on the holder's certificate
      renewal(t, c.signer(), now);
      return;
    }
    throw refused(t, who.actor() + " (certificate of template " + (c.signer() == null ? "?"
        : c.signer().template()) + (who.roles().isEmpty() ? "" : ", " + String.join(", ", who.roles().stream()
            .sorted().map(Role::label).toList())) + ")");
  }

  /**
   * Refuses NOT_AUTHORIZED the renewal of {@code old} under {@code t} (a kur, or enrolling again on its own template
   * with it) before the template's renewal window opens.
   */
  public static void renewal(Template t, org.keyarc.ca.store.CertRecord old, java.time.Instant now)
      throws CaException {
    if (t.renewalWindow().isZero()) {
      return;
    }
    java.time.Instant opens = old.notAfter().minus(t.renewalWindow());
    if (now.isBefore(opens)) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate " + old.serial().toString(16) + " can be renewed "
          + "from " + opens.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " on, " + t.renewalWindow().toDays()
          + " days before it expires (template " + t.name() + "'s renewalWindowDays); nothing was stored");
    }
  }

  private static CaException refused(Template t, String sender) {
    return new CaException(ErrorCode.NOT_AUTHORIZED, sender + " may not enroll on template " + t.name()
        + "; it takes " + t.enrollers().describe() + " (nothing was stored)");
  }
}
