package org.keyarc.ca.template;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.keyarc.ca.store.Role;

/**
 * Who may enroll on a template (ADCS's Enroll permission). A request is refused NOT_AUTHORIZED, and nothing
 * is stored or queued, unless its sender holds one of:
 *
 * @param secret a one-time secret bound to this template (the secret's template and subject are then the
 *     request's)
 * @param secretCreators the roles that may create such secrets (a subset of manager and administrator, who
 *     alone create secrets at all)
 * @param roles certificate holders with one of these roles may enroll with their certificate (their own
 *     subject); empty for none. Holding a role is no permission on other templates: an administrator's
 *     certificate enrolls only where a template names the administrator role
 * @param holdersOf holders of a certificate issued from one of these templates may enroll with it (their
 *     own subject and names): a renewal, when the list names the template itself
 */
public record Enrollers(boolean secret, Set<Role> secretCreators, Set<Role> roles, Set<String> holdersOf) {
  /** The roles that create one-time secrets at all. */
  public static final Set<Role> SECRET_MAKERS = Set.of(Role.MANAGER, Role.ADMINISTRATOR);

  public Enrollers {
    secretCreators = secretCreators.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(secretCreators));
    roles = Set.copyOf(roles);
    holdersOf = Set.copyOf(holdersOf);
  }

  /** One-time secrets made by a manager or administrator, and nobody else. */
  public static Enrollers secretOnly() {
    return new Enrollers(true, SECRET_MAKERS, Set.of(), Set.of());
  }

  /** One-time secrets made by a manager or administrator, and holders of certificates of {@code templates}. */
  public static Enrollers secretOrHoldersOf(String... templates) {
    return new Enrollers(true, SECRET_MAKERS, Set.of(), Set.of(templates));
  }

  /** True when nobody at all could enroll. */
  public boolean nobody() {
    return !secret && roles.isEmpty() && holdersOf.isEmpty();
  }

  /** "a one-time secret (made by a manager or administrator), holders of User certificates". */
  public String describe() {
    List<String> ways = new ArrayList<>();
    if (secret) {
      ways.add("a one-time secret for it (made by " + String.join(" or ", secretCreators.stream().sorted()
          .map(Enrollers::withArticle).toList()) + ")");
    }
    if (!roles.isEmpty()) {
      ways.add("the certificate of " + String.join(" or ", roles.stream().sorted().map(Enrollers::withArticle)
          .toList()));
    }
    if (!holdersOf.isEmpty()) {
      ways.add("a certificate of template " + String.join(" or ", holdersOf.stream().sorted().toList()));
    }
    return ways.isEmpty() ? "nobody" : String.join(", or ", ways);
  }

  private static String withArticle(Role r) {
    return (r == Role.ADMINISTRATOR || r == Role.AUDITOR ? "an " : "a ") + r.label();
  }
}
