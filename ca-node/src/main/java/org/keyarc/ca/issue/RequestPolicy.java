package org.keyarc.ca.issue;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.NameRules;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a request gets, whatever protocol carried it, decided before anything is stored: whether its sender
 * may enroll on the template at all ({@link EnrollPermissions}), the template (a one-time secret fixes it;
 * a certificate holder asks for one; a key update keeps the updated certificate's), the subject (the
 * secret's, or the holder's own) and the subjectAltNames ({@link NameRules}: from the secret, the holder's
 * certificate, the approver or a checked request value; never copied). Refusals of permission and of
 * extensions are audited ({@code enroll.refused}).
 */
public final class RequestPolicy {
  private static final Logger LOG = LoggerFactory.getLogger(RequestPolicy.class);

  private final Templates templates;
  private final CertificateQueries certificates;
  private final String defaultTemplate;
  private final Store store;
  private final Clock clock;

  /** Without a store to audit refusals in (unit tests of the choices alone). */
  public RequestPolicy(Templates templates, CertificateQueries certificates, String defaultTemplate) {
    this(templates, certificates, defaultTemplate, null, Clock.systemUTC());
  }

  public RequestPolicy(Templates templates, CertificateQueries certificates, String defaultTemplate, Store store,
      Clock clock) {
    this.templates = templates;
    this.certificates = certificates;
    this.defaultTemplate = defaultTemplate;
    this.store = store;
    this.clock = clock;
  }

  /**
   * What the sender of a request holds: its identity, the one-time secret that protected the request (or
   * null), and the store record of the certificate that signed it (or of the TLS client certificate; null
   * for a secret).
   */
  public record Credential(Identity who, SecretService.SecretGrant secret, CertRecord signer) {}

  /** What a request gets: its template, subject and subjectAltNames (null for none). */
  public record Decision(Template template, X500Name subject, GeneralNames subjectAltNames) {}

  /** The credential of a request's sender; {@code signerSerial} is the signing (or TLS) certificate's. */
  public Credential credential(Identity who, SecretService.SecretGrant secret, BigInteger signerSerial)
      throws CaException {
    CertRecord signer = null;
    if (secret == null && who != null && who.kind() == Identity.Kind.CERTIFICATE && signerSerial != null) {
      signer = certificates.record(signerSerial).orElseThrow(() -> new CaException(ErrorCode.UNKNOWN_SIGNER,
          "the signer certificate " + signerSerial.toString(16) + " is not in this CA's store"));
    }
    return new Credential(who, secret, signer);
  }

  /**
   * An ir, cr or p10cr: the template ({@code asked} may be null), the sender's permission on it, the
   * subject ({@code requested} may be null or empty) and the subjectAltNames, from the request's
   * {@code extensions} (may be null) and the credential.
   */
  public Decision enrollment(Credential c, String asked, X500Name requested, Extensions extensions)
      throws CaException {
    Template t = template(c.secret(), asked);
    try {
      EnrollPermissions.check(t, c, clock.instant());
      X500Name subject = subject(c.who(), c.secret(), requested);
      GeneralNames wanted = NameRules.requested(t, extensions);
      GeneralNames sans = c.secret() != null
          ? NameRules.decide(t, wanted, SecretService.subjectAltNames(c.secret().record()), "the one-time secret")
          : NameRules.decide(t, wanted, namesOf(c.signer()), "the signer's certificate");
      return new Decision(t, subject, sans);
    } catch (CaException e) {
      audit(c, t, e);
      throw e;
    }
  }

  /**
   * A kur, signed with the certificate being updated: its template, its subject (a requested subject is
   * ignored) and its subjectAltNames, which a request may repeat but never change. Holding the certificate
   * is the permission: kur works on every template.
   */
  public Decision keyUpdate(Credential c, X500Name requested, Extensions extensions) throws CaException {
    Identity who = c.who();
    if (who == null || who.kind() != Identity.Kind.CERTIFICATE || c.signer() == null) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "kur must be signed with the certificate being updated");
    }
    Template t = templates.require(c.signer().template());
    try {
      EnrollPermissions.renewal(t, c.signer(), clock.instant());
      // the subject is the updated certificate's, whatever the request names (as before issue 12)
      return new Decision(t, new X500Name(who.name()), NameRules.keep(t, NameRules.requested(t, extensions),
          namesOf(c.signer())));
    } catch (CaException e) {
      audit(c, t, e);
      throw e;
    }
  }

  private static GeneralNames namesOf(CertRecord rec) throws CaException {
    if (rec == null) {
      return null;
    }
    try {
      Extension san = new X509CertificateHolder(rec.der()).getExtension(Extension.subjectAlternativeName);
      return san == null ? null : GeneralNames.getInstance(san.getParsedValue());
    } catch (IOException | IllegalArgumentException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored certificate " + rec.serial().toString(16)
          + " cannot be read");
    }
  }

  /** Audits a refusal of permission or of names; other refusals (a bad subject, say) are the client's slip. */
  private void audit(Credential c, Template t, CaException e) {
    if (store == null || (e.code() != ErrorCode.NOT_AUTHORIZED && e.code() != ErrorCode.EXTENSION_NOT_ALLOWED)) {
      return;
    }
    String actor = c.who() == null ? "anonymous" : c.who().actor();
    try {
      store.inTransaction(tx -> {
        Audit.append(tx, actor, AuditAction.ENROLL_REFUSED, "template:" + t.name(), "code=" + e.code().number() + " "
            + e.getMessage().replaceAll("[^\\x20-\\x7e]", "?"), clock.instant());
        return null;
      });
    } catch (CaException ex) {
      LOG.warn("could not audit a refused enrollment: {}", ex.getMessage());
    }
  }

  /** The template: the secret's, else the one asked for ({@code asked}, may be null), else the default. */
  public Template template(SecretService.SecretGrant secret, String asked) throws CaException {
    if (secret != null) {
      String bound = secret.record().template();
      if (asked != null && !asked.equals(bound)) {
        throw new CaException(ErrorCode.NOT_AUTHORIZED, "the one-time secret is for template " + bound + ", not "
            + Texts.printable(asked));
      }
      return templates.require(bound);
    }
    return templates.require(asked != null ? asked : defaultTemplate);
  }

  /** The subject: the secret's, else the certificate holder's own; {@code requested} may be null or empty. */
  public X500Name subject(Identity who, SecretService.SecretGrant secret, X500Name requested) throws CaException {
    if (secret != null) {
      X500Name bound = new X500Name(secret.record().subject());
      if (requested != null && requested.getRDNs().length > 0 && !requested.equals(bound)) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "the one-time secret is for subject " + bound + ", not "
            + requested);
      }
      return bound;
    }
    if (who != null && who.kind() == Identity.Kind.CERTIFICATE) {
      X500Name own = new X500Name(who.name());
      if (requested == null || requested.getRDNs().length == 0) {
        return own;
      }
      if (!requested.equals(own)) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "a certificate holder may only request certificates for its own "
            + "subject (" + own + "), not " + requested);
      }
      return own;
    }
    throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate requests must be protected");
  }
}
