package org.keyarc.ca.template;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A template's subjectAltName policy: which types its certificates may carry and where each value comes
 * from. A type not listed is never issued, and a request asking for it is refused. Nothing is ever copied
 * from a request unchecked (ADCS's ESC1 / ESC6):
 * <ul>
 *   <li>{@link Source#SECRET}: the value bound to the one-time secret at {@code secret create} (for a
 *       certificate holder's request, the value in its own certificate; for a key update, the value in the
 *       certificate being updated). A request may repeat it, never change it;</li>
 *   <li>{@link Source#APPROVER}: the request's value, held with the request and shown to the certificate
 *       manager, who issues it by approving (templates with {@code requiresApproval} only);</li>
 *   <li>{@link Source#REQUEST}: the request's value when it falls under one of {@link Rule#suffixes()}
 *       (dNSName: the host; rfc822Name and upn: the domain after the {@code @}).</li>
 * </ul>
 *
 * @param rules the allowed types and their rules; unmodifiable
 */
public record SanPolicy(Map<SanType, Rule> rules) {
  /** No subjectAltName at all. */
  public static final SanPolicy NONE = new SanPolicy(Map.of());

  /** Where a value comes from. */
  public enum Source {
    SECRET, APPROVER, REQUEST;

    /** The configuration's word for it ("secret"). */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One type's rule.
   *
   * @param from where its values come from
   * @param suffixes for {@link Source#REQUEST}: the domains a requested value must fall under (a value
   *     matches a domain D when it is D or ends with "." + D, case-insensitively); empty otherwise
   * @param required a certificate of this template must carry at least one value of this type
   */
  public record Rule(Source from, List<String> suffixes, boolean required) {
    public Rule {
      suffixes = List.copyOf(suffixes);
    }

    public static Rule from(Source from) {
      return new Rule(from, List.of(), false);
    }
  }

  public SanPolicy {
    EnumMap<SanType, Rule> copy = new EnumMap<>(SanType.class);
    copy.putAll(rules);
    rules = Collections.unmodifiableMap(copy);
  }

  /** The rule for {@code type}, empty when the template never issues that type. */
  public Optional<Rule> rule(SanType type) {
    return Optional.ofNullable(rules.get(type));
  }

  /** "rfc822Name from the secret, dNSName from the request (.corp.example)", or "none". */
  public String describe() {
    if (rules.isEmpty()) {
      return "none";
    }
    StringBuilder b = new StringBuilder();
    rules.forEach((t, r) -> b.append(b.length() == 0 ? "" : ", ").append(t.configName()).append(" from the ")
        .append(r.from().configName()).append(r.suffixes().isEmpty() ? "" : " " + r.suffixes())
        .append(r.required() ? " (required)" : ""));
    return b.toString();
  }
}
