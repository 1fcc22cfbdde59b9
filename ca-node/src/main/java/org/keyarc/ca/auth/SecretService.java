package org.keyarc.ca.auth;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreTx;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.NameRules;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * One-time enrollment secrets (what {@code openssl cmp -ref R -secret S} and {@code keyarc enroll --ref}
 * use): created by a manager or administrator for one template and subject, derived in the HSM from the
 * reference and a nonce with the CA's secret-MAC key (the store keeps only the secret's hash), and used
 * once (in one CMP transaction, whose certConf and pollReq may still use it). Failed MACs are counted; a
 * secret with too many is locked and must be re-issued. A secret may bind subjectAltNames too (an e-mail
 * address: {@code secret create --email}), of the types its template takes from a secret. Since V5 the
 * derivation covers the binding (template, subject, names): a store writer who changes what a secret is for
 * breaks the secret. The secret records who made it (label and principals): its user acts on that person's
 * word, so for four eyes the maker is a requester too. No secret is made for a role holder's name.
 */
public final class SecretService {
  private static final byte[] SECRET_CONTEXT = "keyarc-enrollment-secret-v1".getBytes(StandardCharsets.US_ASCII);
  /** The derivation of secrets made since V5: reference, nonce and the binding (template, subject, names). */
  private static final byte[] BOUND_CONTEXT = "keyarc-enrollment-secret-v2".getBytes(StandardCharsets.US_ASCII);

  private final Store store;
  private final CaKeyring keys;
  private final Templates templates;
  private final Clock clock;
  private final Duration validity;
  private final int maxFailures;

  /** {@code maxFailures}: the failed MACs that lock a secret. */
  public SecretService(Store store, CaKeyring keys, Templates templates, Clock clock, Duration validity,
      int maxFailures) {
    this.store = store;
    this.keys = keys;
    this.templates = templates;
    this.clock = clock;
    this.validity = validity;
    this.maxFailures = maxFailures;
  }

  /** A one-time secret the client claims to know, and the secret itself (derived in the HSM). */
  public record SecretGrant(SecretRecord record, char[] secret) {
    @Override
    public String toString() {
      return "SecretGrant[" + record.reference() + "]";
    }
  }

  /** A new one-time secret: the reference, the secret (shown once) and when it expires. */
  public record NewSecret(String reference, char[] secret, Instant expires, String template, String subject,
      GeneralNames subjectAltNames) {
    @Override
    public String toString() {
      return "NewSecret[" + reference + ", " + template + ", " + subject + "]";
    }
  }

  /**
   * The row of a one-time secret a request names, if the request may use it: known, not expired, not locked
   * ({@code maxFailures} failed MACs), and unused, except that with {@code continuing} (certConf, pollReq) a
   * secret used in CMP transaction {@code transactionId} (hex) stays usable for that transaction. Reads the
   * store only: nothing is derived, so a refused secret costs no HSM or key-derivation work.
   *
   * @throws CaException {@link ErrorCode#SECRET_LOCKED} for a locked secret, {@link ErrorCode#SECRET_INVALID}
   *     for an unknown, expired or used one
   */
  public SecretRecord usable(String reference, boolean continuing, String transactionId) throws CaException {
    Optional<SecretRecord> rec = store.inTransaction(tx -> tx.secrets().find(reference));
    if (rec.isEmpty()) {
      throw new CaException(ErrorCode.SECRET_INVALID, "unknown secret reference '" + Texts.printable(reference) + "'");
    }
    SecretRecord s = rec.get();
    if (s.failures() >= maxFailures) {
      throw new CaException(ErrorCode.SECRET_LOCKED, "the one-time secret " + reference + " is locked after "
          + s.failures() + " failed MACs; re-issue it with keyarc secret create");
    }
    if (s.usedAt() != null && !(continuing && s.usedTransaction() != null
        && s.usedTransaction().equals(transactionId))) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " was already used");
    }
    if (clock.instant().isAfter(s.expiresAt())) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " expired on "
          + s.expiresAt());
    }
    return s;
  }

  /** The failed MACs that lock a secret. */
  public int maxFailures() {
    return maxFailures;
  }

  /**
   * Re-derives, in the HSM, the secret of a row {@link #usable} returned, over its binding (template, subject,
   * names; a secret made before V5 without them).
   */
  public SecretGrant grant(SecretRecord s) throws CaException {
    String reference = s.reference();
    char[] secret = derive(reference, s.nonce(), binding(s.template(), s.subject(), s.subjectAltNames()));
    if (!hash(secret).equals(s.secretHash()) && s.subjectAltNames() == null) {
      Arrays.fill(secret, '\0');
      secret = derive(reference, s.nonce(), null); // a secret made before V5: its binding is not in the derivation
    }
    if (!hash(secret).equals(s.secretHash())) {
      Arrays.fill(secret, '\0');
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference
          + " no longer matches the CA's secret key or what it was made for (was the key replaced, or its "
          + "template, subject or names changed in the store?)");
    }
    return new SecretGrant(s, secret);
  }

  /**
   * Counts a failed MAC against the secret and audits it ({@code peer}: the sender's address; {@code why}: what
   * failed); the failure that reaches the limit locks the secret, audited as such. Returns the failures now.
   */
  public int macFailed(String reference, String peer, String why) throws CaException {
    Instant now = clock.instant();
    return store.inTransaction(tx -> {
      int n = tx.secrets().recordFailure(reference);
      Audit.append(tx, "peer:" + peer, AuditAction.AUTH_MAC_FAILED, "secret:" + reference, "peer=" + peer
          + " failures=" + n + " " + why, now);
      if (n == maxFailures) {
        Audit.append(tx, "peer:" + peer, AuditAction.AUTH_SECRET_LOCKED, "secret:" + reference, "peer=" + peer
            + " failures=" + n + "; refused from now on, re-issue it with keyarc secret create", now);
      }
      return n;
    });
  }

  /**
   * Creates a one-time enrollment secret for {@code templateName} and {@code subject}. Manager or administrator.
   * A name that a role member holds, or that waits for a role, gets no secret (ROLE_CONFLICT): another role
   * cannot mint a copy of a role holder's identity.
   */
  public NewSecret create(Identity who, String templateName, X500Name subject) throws CaException {
    return create(who, templateName, subject, (GeneralNames) null);
  }

  /**
   * The ceremony of {@code ca init --admin}: a one-time secret whose first certificate gets {@code role}, bound
   * to that certificate's key when it is issued. The local operator (who holds the CA token's PIN) only; the name
   * must be unused (no role, no valid certificate).
   */
  public NewSecret createGranting(Identity who, String templateName, X500Name subject, Role role)
      throws CaException {
    if (who.kind() != Identity.Kind.LOCAL_OPERATOR) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " cannot make a secret that grants a role: only "
          + "the operator at the CA host does (keyarc ca init --admin)");
    }
    if (templates.require(templateName).requiresApproval()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a secret that grants a role must be for a template issued "
          + "without approval, not " + templateName);
    }
    return create(who, templateName, subject, null, role);
  }

  /**
   * Creates a one-time enrollment secret for {@code templateName} and {@code subject}, binding {@code names}
   * (may be null) as the certificate's subjectAltNames. Manager or administrator, and one the template lets
   * make its secrets; the template must take secrets, and each name must be of a type it takes from a secret.
   */
  public NewSecret create(Identity who, String templateName, X500Name subject, GeneralNames names)
      throws CaException {
    return create(who, templateName, subject, names, null);
  }

  private NewSecret create(Identity who, String templateName, X500Name subject, GeneralNames names, Role grants)
      throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR);
    Template t = templates.require(templateName);
    if (!t.enrollers().secret()) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "template " + t.name() + " takes no one-time secrets; it takes "
          + t.enrollers().describe());
    }
    Authorization.require(who, t.enrollers().secretCreators().toArray(new Role[0]));
    TemplateRules.checkSubject(t, subject);
    GeneralNames bound = names == null || names.getNames().length == 0 ? null : names;
    NameRules.checkBound(t, bound);
    byte[] sans = bound == null ? null : org.keyarc.ca.support.Encodings.der(bound);
    byte[] nonce = random(16);
    String reference = HexFormat.of().formatHex(random(8));
    char[] secret = derive(reference, nonce, binding(t.name(), subject.toString(), sans));
    Instant now = clock.instant();
    Instant expires = now.plus(validity);
    SecretRecord rec = new SecretRecord(reference, nonce, hash(secret), t.name(), subject.toString(), who.actor(), now,
        expires, null, sans, 0, null, who.aliasesText());
    String named = bound == null ? "" : " subjectAltNames=" + String.join(",", NameRules.texts(bound));
    try {
      store.inTransaction(tx -> {
        if (grants != null) {
          RoleService.checkNameUnused(tx, subject, now);
        } else {
          RoleService.checkNameFree(tx, subject, java.util.List.of(), null);
        }
        tx.secrets().insert(rec);
        Audit.append(tx, who.actor(), AuditAction.SECRET_CREATE, "secret:" + reference,
            "template=" + t.name() + " subject=" + subject + named + " expires=" + expires, now);
        if (grants != null) {
          tx.roles().addPending(new RoleStore.Pending(reference, grants, subject.toString(), who.actor(), now));
          Audit.append(tx, who.actor(), AuditAction.ROLE_PENDING, subject.toString(), "role=" + grants.name()
              + " secret=" + reference + " (bound to the key of the first certificate issued from it)", now);
        }
        return null;
      });
    } catch (CaException e) {
      Arrays.fill(secret, '\0');
      throw e;
    }
    return new NewSecret(reference, secret, expires, t.name(), subject.toString(), bound);
  }

  /** The subjectAltNames bound to a secret, or null. */
  public static GeneralNames subjectAltNames(SecretRecord s) {
    return s.subjectAltNames() == null ? null : GeneralNames.getInstance(s.subjectAltNames());
  }

  /** What a secret made since V5 binds, as the derivation covers it: each part length-prefixed. */
  private static byte[] binding(String template, String subject, byte[] names) {
    byte[][] parts = {template.getBytes(StandardCharsets.UTF_8), subject.getBytes(StandardCharsets.UTF_8),
        names == null ? new byte[0] : names};
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.write(p.length >>> 24);
      out.write(p.length >>> 16);
      out.write(p.length >>> 8);
      out.write(p.length);
      out.write(p, 0, p.length);
    }
    return out.toByteArray();
  }

  /**
   * Marks the secret used in CMP transaction {@code transactionId} (hex: its certConf and pollReq may still
   * use it) inside the issuing unit of work; refuses when another request used it first (the whole issuance
   * then rolls back). A null reference (no secret) does nothing.
   */
  public static void consume(StoreTx tx, String reference, String transactionId, Instant now) throws CaException {
    if (reference != null && !tx.secrets().markUsed(reference, now, transactionId)) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " was already used");
    }
  }

  private static String hash(char[] secret) {
    return Digests.sha256Hex(new String(secret).getBytes(StandardCharsets.UTF_8));
  }

  /** The secret of {@code reference}: AES-CMAC in the HSM; {@code binding} null for a secret made before V5. */
  private char[] derive(String reference, byte[] nonce, byte[] binding) throws CaException {
    byte[] context = binding == null ? SECRET_CONTEXT : BOUND_CONTEXT;
    byte[] ref = reference.getBytes(StandardCharsets.UTF_8);
    byte[] bound = binding == null ? new byte[0] : binding;
    byte[] data = new byte[context.length + ref.length + nonce.length + bound.length];
    System.arraycopy(context, 0, data, 0, context.length);
    System.arraycopy(ref, 0, data, context.length, ref.length);
    System.arraycopy(nonce, 0, data, context.length + ref.length, nonce.length);
    System.arraycopy(bound, 0, data, context.length + ref.length + nonce.length, bound.length);
    byte[] mac = HsmCalls.call(() -> keys.token().call(s -> s.cmac(keys.macKey(), data)));
    String b32 = base32(mac);
    Arrays.fill(mac, (byte) 0);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < b32.length(); i += 4) {
      if (i > 0) {
        out.append('-');
      }
      out.append(b32, i, Math.min(b32.length(), i + 4));
    }
    char[] chars = new char[out.length()];
    out.getChars(0, out.length(), chars, 0);
    return chars;
  }

  private byte[] random(int n) throws CaException {
    return HsmCalls.call(() -> keys.token().call(s -> s.random(n)));
  }

  private static String base32(byte[] data) {
    final String alphabet = "abcdefghijkmnpqrstuvwxyz23456789"; // no 0/o, 1/l: easy to type
    StringBuilder out = new StringBuilder();
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(alphabet.charAt((buffer << (5 - bits)) & 31));
    }
    return out.toString();
  }
}
