package org.keyarc.ca.auth;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreTx;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * Roles and role separation. A role is bound to the public key of one certificate this CA issued (the
 * certificate's subject is only its label): an administrator grants it by the certificate's serial, or by the
 * name of the one certificate holder of that name; the first administrator's role waits for the first
 * certificate issued from the one-time secret {@code ca init --admin} made for it. Nobody else gets a secret or
 * a certificate for a role holder's name, so another role cannot mint a copy of the identity.
 *
 * <p>With separation on, one identity (one key, and one name) cannot hold two of administrator, manager and
 * auditor, nor both manager and recovery agent.
 */
public final class RoleService {
  private static final Set<Role> SEPARATED = Set.of(Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);

  private final Store store;
  private final Clock clock;
  private final boolean roleSeparation;
  private final String issuer;

  public RoleService(Store store, Clock clock, boolean roleSeparation, String issuer) {
    this.store = store;
    this.clock = clock;
    this.roleSeparation = roleSeparation;
    this.issuer = issuer;
  }

  /** What a grant did: the member (holder, label, certificate) and whether it is new. */
  public record Granted(RoleStore.Member member, boolean added) {}

  /**
   * Grants a role to the one holder of a valid certificate named {@code subject} (the name is resolved to that
   * certificate now, and the role bound to its key). Administrator only.
   */
  public Granted grant(Identity who, String subject, Role role) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    String normalized = new X500Name(subject).toString();
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      checkSeparation(tx, List.of(), normalized, role);
      Map<String, CertRecord> byKey = new LinkedHashMap<>();
      for (CertRecord c : tx.certificates().list(CertRecord.Status.ISSUED, normalized, 1000)) {
        if (usable(c, now) && !Templates.KEY_RECOVERY_AGENT.equals(c.template())) {
          byKey.putIfAbsent(keyId(c), c); // newest first: the newest certificate of each key
        }
      }
      if (byKey.isEmpty()) {
        throw new CaException(ErrorCode.NOT_FOUND, "no valid certificate of this CA is issued to " + normalized
            + ": a role is bound to a certificate holder's key, so the member enrolls first (a User secret, then "
            + "keyarc enroll), then the role is granted");
      }
      if (byKey.size() > 1) {
        StringBuilder serials = new StringBuilder();
        byKey.values().forEach(c -> serials.append(serials.length() == 0 ? "" : ", ").append(Digests.hex(c.serial())));
        throw new CaException(ErrorCode.ROLE_CONFLICT, byKey.size() + " keys hold certificates named " + normalized
            + " (serials " + serials + "): a role holder's name belongs to one key; revoke the certificates that are "
            + "not the member's, then grant by serial (nothing was granted)");
      }
      return grantTo(tx, who, byKey.values().iterator().next(), role, now);
    });
  }

  /** Grants a role to the holder of certificate {@code serial}, bound to its key. Administrator only. */
  public Granted grant(Identity who, BigInteger serial, Role role) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      CertRecord c = tx.certificates().find(issuer, serial).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
          "this CA issued no certificate with serial " + Digests.hex(serial)));
      return grantTo(tx, who, c, role, now);
    });
  }

  private Granted grantTo(StoreTx tx, Identity who, CertRecord c, Role role, Instant now) throws CaException {
    String serial = Digests.hex(c.serial());
    if (c.status() != CertRecord.Status.ISSUED || !usable(c, now)) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + serial + " (" + c.subject() + ") is "
          + (c.status() == CertRecord.Status.ISSUED ? "expired" : c.status().name().toLowerCase())
          + ": a role is granted to a valid, confirmed certificate");
    }
    if (Templates.KEY_RECOVERY_AGENT.equals(c.template())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + serial + " is a Key Recovery Agent certificate: "
          + "it decrypts archives and is no identity; grant the role to the member's own certificate");
    }
    String keyId = keyId(c);
    List<String> holders = List.of(Identity.keyPrincipal(keyId), Identity.certPrincipal(c.serial()));
    List<CertRecord> others = otherKeysNamed(tx, c.subject(), keyId, now);
    if (!others.isEmpty()) {
      throw new CaException(ErrorCode.ROLE_CONFLICT, "certificate " + Digests.hex(others.get(0).serial())
          + " also names " + c.subject() + " with another key: a role holder's name belongs to one key; revoke it "
          + "first (nothing was granted)");
    }
    checkSeparation(tx, holders, c.subject(), role);
    RoleStore.Member m = new RoleStore.Member(holders.get(0), c.subject(), serial, role, who.actor(), now);
    boolean added = tx.roles().grant(m);
    if (added) {
      Audit.append(tx, who.actor(), AuditAction.ROLE_GRANT, c.subject(), "role=" + role.name() + " serial=" + serial
          + " " + holders.get(0), now);
    }
    return new Granted(m, added);
  }

  /**
   * With separation on, refuses {@code role} to an identity that holds a separated role: any row of one of
   * {@code holders} (its key), and any row or waiting grant labelled {@code subject} (its name).
   */
  private void checkSeparation(StoreTx tx, Collection<String> holders, String subject, Role role)
      throws CaException {
    if (!roleSeparation) {
      return;
    }
    Set<Role> held = EnumSet.noneOf(Role.class);
    for (RoleStore.Member m : tx.roles().ofHolders(holders)) {
      held.add(m.role());
    }
    String name = Identity.canonical(new X500Name(subject));
    for (RoleStore.Member m : tx.roles().list()) {
      if (Identity.canonical(new X500Name(m.subject())).equals(name)) {
        held.add(m.role());
      }
    }
    for (RoleStore.Pending p : tx.roles().pending()) {
      if (Identity.canonical(new X500Name(p.subject())).equals(name)) {
        held.add(p.role());
      }
    }
    for (Role r : held) {
      boolean bothSeparated = SEPARATED.contains(role) && SEPARATED.contains(r);
      // a manager fetches blobs, an agent opens them: one identity must not do both
      boolean fetchAndOpen = Set.of(role, r).equals(Set.of(Role.MANAGER, Role.RECOVERY_AGENT));
      if (r != role && (bothSeparated || fetchAndOpen)) {
        throw new CaException(ErrorCode.ROLE_CONFLICT, subject + " already holds " + r.label()
            + "; with role separation on, one identity cannot also be " + role.label());
      }
    }
  }

  /** Removes a role from every holder labelled {@code subject}. Administrator only. */
  public void revoke(Identity who, String subject, Role role) throws CaException {
    revoke(who, subject, null, role);
  }

  /**
   * Removes a role: from the holder of certificate {@code serial} (its key), or from every holder labelled
   * {@code subject} (and a role still waiting for that name). Administrator only.
   */
  public void revoke(Identity who, String subject, BigInteger serial, Role role) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    String target = subject != null ? new X500Name(subject).toString() : "serial:" + Digests.hex(serial);
    int removed = store.inTransaction(tx -> {
      int n;
      String label = target;
      if (serial != null) {
        CertRecord c = tx.certificates().find(issuer, serial).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
            "this CA issued no certificate with serial " + Digests.hex(serial)));
        n = tx.roles().revoke(List.of(Identity.keyPrincipal(keyId(c)), Identity.certPrincipal(serial)), role);
        label = c.subject();
      } else {
        n = tx.roles().revokeSubject(target, role);
      }
      if (n > 0) {
        Audit.append(tx, who.actor(), AuditAction.ROLE_REVOKE, label, "role=" + role.name()
            + (serial != null ? " serial=" + Digests.hex(serial) : ""), now);
      }
      return n;
    });
    if (removed == 0) {
      throw new CaException(ErrorCode.NOT_FOUND, target + " does not hold " + role.name().toLowerCase());
    }
  }

  /** Every role member. Administrator or auditor. */
  public List<RoleStore.Member> list(Identity who) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR, Role.AUDITOR);
    return store.inTransaction(tx -> tx.roles().list());
  }

  /** The roles that wait for a certificate from a one-time secret. Administrator or auditor. */
  public List<RoleStore.Pending> pending(Identity who) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR, Role.AUDITOR);
    return store.inTransaction(tx -> tx.roles().pending());
  }

  // ------------------------------------------------------------------ in another service's unit of work

  /**
   * Refuses (ROLE_CONFLICT) a certificate or a secret for a name that a role member holds or that waits for a
   * role, unless it goes to the holder itself ({@code requester}: the requester's principals, a role row of one
   * of which carries the name) or through the ceremony that grants the role ({@code secretReference}: the secret
   * the waiting role is bound to). Runs in the issuing (or secret-making) unit of work.
   */
  public static void checkNameFree(StoreTx tx, X500Name subject, Collection<String> requester, String secretReference)
      throws CaException {
    String name = Identity.canonical(subject);
    for (RoleStore.Member m : tx.roles().list()) {
      if (canonicalOf(m.subject()).equals(name) && !requester.contains(m.holder())) {
        throw new CaException(ErrorCode.ROLE_CONFLICT, subject + " holds the " + m.role().label() + " role: no "
            + "secret or certificate is issued for a role holder's name except to the holder itself (nothing was "
            + "issued)");
      }
    }
    for (RoleStore.Pending p : tx.roles().pending()) {
      if (canonicalOf(p.subject()).equals(name) && !p.secretReference().equals(secretReference)) {
        throw new CaException(ErrorCode.ROLE_CONFLICT, subject + " waits for the " + p.role().label() + " role "
            + "(ca init --admin): only its own one-time secret enrolls that name (nothing was issued)");
      }
    }
  }

  /**
   * The canonical form of a stored subject (role members and waiting grants), remembered: every issuance compares its
   * subject with each of them, and parsing the same few names again per certificate was a visible share of the
   * issuing unit's time. A pure function of the text, so a store edit of a subject is seen at once; at most
   * {@link #CANONICAL_CACHE} names are kept (then it starts again).
   */
  private static String canonicalOf(String subject) {
    String c = CANONICAL.get(subject);
    if (c == null) {
      c = Identity.canonical(new X500Name(subject));
      if (CANONICAL.size() >= CANONICAL_CACHE) {
        CANONICAL.clear();
      }
      CANONICAL.put(subject, c);
    }
    return c;
  }

  private static final int CANONICAL_CACHE = 1024;
  private static final java.util.Map<String, String> CANONICAL = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Refuses (ROLE_CONFLICT) a waiting grant for a name that is taken: held by a role member, waiting for a role
   * already, or carried by a valid certificate (other than a Key Recovery Agent certificate).
   */
  public static void checkNameUnused(StoreTx tx, X500Name subject, Instant now) throws CaException {
    checkNameFree(tx, subject, List.of(), null);
    List<CertRecord> named = otherKeysNamed(tx, subject.toString(), null, now);
    if (!named.isEmpty()) {
      throw new CaException(ErrorCode.ROLE_CONFLICT, "certificate " + Digests.hex(named.get(0).serial())
          + " already names " + subject + ": a role holder's name belongs to one key; revoke it first (nothing was "
          + "made)");
    }
  }

  /**
   * Binds the roles waiting for secret {@code reference} to the key of {@code cert}, the certificate just issued
   * from it, in the issuing unit of work. A null reference, or a secret no role waits for, does nothing.
   */
  public static void bindOnIssue(StoreTx tx, String reference, X509CertificateHolder cert, Instant now)
      throws CaException {
    if (reference == null) {
      return;
    }
    List<RoleStore.Pending> waiting = tx.roles().pendingFor(reference);
    if (waiting.isEmpty()) {
      return;
    }
    String holder = Identity.keyPrincipal(IdentityService.keyId(cert));
    String subject = cert.getSubject().toString();
    String serial = Digests.hex(cert.getSerialNumber());
    for (RoleStore.Pending p : waiting) {
      tx.roles().grant(new RoleStore.Member(holder, subject, serial, p.role(), p.grantedBy(), now));
      Audit.append(tx, p.grantedBy(), AuditAction.ROLE_BIND, subject, "role=" + p.role().name() + " serial=" + serial
          + " " + holder + " secret=" + reference, now);
    }
    tx.roles().removePending(reference);
  }

  /** Valid, unrevoked certificates named {@code subject} whose key is not {@code keyId} (null: any key). */
  static List<CertRecord> otherKeysNamed(StoreTx tx, String subject, String keyId, Instant now) throws CaException {
    List<CertRecord> out = new ArrayList<>();
    for (CertRecord c : tx.certificates().list(null, subject, 1000)) {
      if (c.status() != CertRecord.Status.REVOKED && usable(c, now)
          && !Templates.KEY_RECOVERY_AGENT.equals(c.template()) && (keyId == null || !keyId.equals(keyId(c)))) {
        out.add(c);
      }
    }
    return out;
  }

  private static boolean usable(CertRecord c, Instant now) {
    return c.notAfter().isAfter(now);
  }

  private static String keyId(CertRecord c) throws CaException {
    return IdentityService.keyId(Encodings.certificate(c.der()));
  }
}
