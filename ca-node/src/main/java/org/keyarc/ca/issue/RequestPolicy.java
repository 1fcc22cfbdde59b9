package org.keyarc.ca.issue;

import java.math.BigInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.support.Texts;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.ErrorCode;

/**
 * Which template and subject a request gets, whatever protocol carried it: a one-time secret fixes both;
 * a certificate holder asks for a template and gets its own subject; a key update keeps the template and
 * subject of the certificate being updated.
 */
public final class RequestPolicy {
  private final Templates templates;
  private final CertificateQueries certificates;
  private final String defaultTemplate;

  public RequestPolicy(Templates templates, CertificateQueries certificates, String defaultTemplate) {
    this.templates = templates;
    this.certificates = certificates;
    this.defaultTemplate = defaultTemplate;
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

  /** A key update: signed with the certificate being updated ({@code signerSerial}), whose template it keeps. */
  public Template updateTemplate(Identity who, BigInteger signerSerial) throws CaException {
    if (who == null || who.kind() != Identity.Kind.CERTIFICATE || signerSerial == null) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "kur must be signed with the certificate being updated");
    }
    return templates.require(certificates.templateOf(signerSerial));
  }
}
