package org.keyarc.ca.auth;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
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
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * One-time enrollment secrets (what {@code openssl cmp -ref R -secret S} and {@code keyarc enroll --ref}
 * use): created by a manager or administrator for one template and subject, derived in the HSM from the
 * reference and a nonce with the CA's secret-MAC key (the store keeps only the secret's hash), and used
 * once. The secret records who made it (label and principals): its user acts on that person's word, so for
 * four eyes the maker is a requester too. No secret is made for a role holder's name.
 */
public final class SecretService {
  private static final byte[] SECRET_CONTEXT = "keyarc-enrollment-secret-v1".getBytes(StandardCharsets.US_ASCII);

  private final Store store;
  private final CaKeyring keys;
  private final Templates templates;
  private final Clock clock;
  private final Duration validity;

  public SecretService(Store store, CaKeyring keys, Templates templates, Clock clock, Duration validity) {
    this.store = store;
    this.keys = keys;
    this.templates = templates;
    this.clock = clock;
    this.validity = validity;
  }

  /** A one-time secret the client claims to know, and the secret itself (derived in the HSM). */
  public record SecretGrant(SecretRecord record, char[] secret) {
    @Override
    public String toString() {
      return "SecretGrant[" + record.reference() + "]";
    }
  }

  /** A new one-time secret: the reference, the secret (shown once) and when it expires. */
  public record NewSecret(String reference, char[] secret, Instant expires, String template, String subject) {
    @Override
    public String toString() {
      return "NewSecret[" + reference + ", " + template + ", " + subject + "]";
    }
  }

  /** Looks up an unused, unexpired one-time secret by its reference and re-derives the secret. */
  public SecretGrant secret(String reference) throws CaException {
    return secret(reference, false);
  }

  /**
   * Like {@link #secret(String)}; with {@code continuing} a used secret is accepted, for the messages
   * that continue the transaction it was used in (certConf, pollReq).
   */
  public SecretGrant secret(String reference, boolean continuing) throws CaException {
    Optional<SecretRecord> rec = store.inTransaction(tx -> tx.secrets().find(reference));
    if (rec.isEmpty()) {
      throw new CaException(ErrorCode.SECRET_INVALID, "unknown secret reference '" + Texts.printable(reference) + "'");
    }
    SecretRecord s = rec.get();
    if (s.usedAt() != null && !continuing) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " was already used");
    }
    if (clock.instant().isAfter(s.expiresAt())) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " expired on "
          + s.expiresAt());
    }
    char[] secret = derive(reference, s.nonce());
    if (!hash(secret).equals(s.secretHash())) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference
          + " no longer matches the CA's secret key (was the key replaced?)");
    }
    return new SecretGrant(s, secret);
  }

  /**
   * Creates a one-time enrollment secret for {@code templateName} and {@code subject}. Manager or administrator.
   * A name that a role member holds, or that waits for a role, gets no secret (ROLE_CONFLICT): another role
   * cannot mint a copy of a role holder's identity.
   */
  public NewSecret create(Identity who, String templateName, X500Name subject) throws CaException {
    return create(who, templateName, subject, null);
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
    return create(who, templateName, subject, role);
  }

  private NewSecret create(Identity who, String templateName, X500Name subject, Role grants) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR);
    Template t = templates.require(templateName);
    TemplateRules.checkSubject(t, subject);
    byte[] nonce = random(16);
    String reference = HexFormat.of().formatHex(random(8));
    char[] secret = derive(reference, nonce);
    Instant now = clock.instant();
    Instant expires = now.plus(validity);
    SecretRecord rec = new SecretRecord(reference, nonce, hash(secret), t.name(), subject.toString(), who.actor(), now,
        expires, null, who.aliasesText());
    try {
      store.inTransaction(tx -> {
        if (grants != null) {
          RoleService.checkNameUnused(tx, subject, now);
        } else {
          RoleService.checkNameFree(tx, subject, java.util.List.of(), null);
        }
        tx.secrets().insert(rec);
        Audit.append(tx, who.actor(), AuditAction.SECRET_CREATE, "secret:" + reference,
            "template=" + t.name() + " subject=" + subject + " expires=" + expires, now);
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
    return new NewSecret(reference, secret, expires, t.name(), subject.toString());
  }

  /**
   * Marks the secret used inside the issuing unit of work; refuses when another request used it first
   * (the whole issuance then rolls back). A null reference (no secret) does nothing.
   */
  public static void consume(StoreTx tx, String reference, Instant now) throws CaException {
    if (reference != null && !tx.secrets().markUsed(reference, now)) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " was already used");
    }
  }

  private static String hash(char[] secret) {
    return Digests.sha256Hex(new String(secret).getBytes(StandardCharsets.UTF_8));
  }

  private char[] derive(String reference, byte[] nonce) throws CaException {
    byte[] ref = reference.getBytes(StandardCharsets.UTF_8);
    byte[] data = new byte[SECRET_CONTEXT.length + ref.length + nonce.length];
    System.arraycopy(SECRET_CONTEXT, 0, data, 0, SECRET_CONTEXT.length);
    System.arraycopy(ref, 0, data, SECRET_CONTEXT.length, ref.length);
    System.arraycopy(nonce, 0, data, SECRET_CONTEXT.length + ref.length, nonce.length);
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
