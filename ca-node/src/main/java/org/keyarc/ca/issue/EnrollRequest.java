package org.keyarc.ca.issue;

import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.template.Template;
import org.keyarc.protocol.CardEvidence;

/**
 * One certificate request, protocol-neutral: already parsed and proven (POP, protection) by the protocol
 * layer, with the template, subject and subjectAltNames decided ({@link RequestPolicy}): the sender may
 * enroll on the template, and {@code subjectAltNames} (null for none) are what the template's policy grants,
 * never the request's extensions. {@code archive} is the private key encrypted to the CA's exchange
 * certificate, for templates that archive (null otherwise); {@code cardEvidence} what a recovery agent's
 * client read from its card (null when the request carried none), kept with a held request. {@code indirectPop}:
 * the key proves possession by decrypting its certificate (RFC 4210 encrCert), so the certificate is delivered
 * encrypted to the key and counts only once the requester's certConf shows it could open it; {@code template} is
 * then already limited to its encipherment bits ({@code TemplateRules.forIndirectPop}).
 */
public record EnrollRequest(Identity requester, ClientRef ref, Template template, X500Name subject,
    SubjectPublicKeyInfo publicKey, GeneralNames subjectAltNames, boolean implicitConfirm, String secretReference,
    EncryptedKey archive, CardEvidence cardEvidence, KeyGen keyGen, boolean indirectPop) {

  /**
   * A request without a public key on a template with central key generation: the key the CA generates in its HSM
   * ({@code publicKey} is null then) and how it is returned.
   */
  public record KeyGen(org.keyarc.hsm.KeySpec spec, org.keyarc.ca.kra.KeyArchiver.Delivery to) {}

  /** A request whose key proved possession by a signature, or one without a key (central key generation). */
  public EnrollRequest(Identity requester, ClientRef ref, Template template, X500Name subject,
      SubjectPublicKeyInfo publicKey, GeneralNames subjectAltNames, boolean implicitConfirm, String secretReference,
      EncryptedKey archive, CardEvidence cardEvidence, KeyGen keyGen) {
    this(requester, ref, template, subject, publicKey, subjectAltNames, implicitConfirm, secretReference, archive,
        cardEvidence, keyGen, false);
  }

  /** A request for the requester's own key. */
  public EnrollRequest(Identity requester, ClientRef ref, Template template, X500Name subject,
      SubjectPublicKeyInfo publicKey, GeneralNames subjectAltNames, boolean implicitConfirm, String secretReference,
      EncryptedKey archive, CardEvidence cardEvidence) {
    this(requester, ref, template, subject, publicKey, subjectAltNames, implicitConfirm, secretReference, archive,
        cardEvidence, null);
  }

  /** A request without card evidence. */
  public EnrollRequest(Identity requester, ClientRef ref, Template template, X500Name subject,
      SubjectPublicKeyInfo publicKey, GeneralNames subjectAltNames, boolean implicitConfirm, String secretReference,
      EncryptedKey archive) {
    this(requester, ref, template, subject, publicKey, subjectAltNames, implicitConfirm, secretReference, archive,
        null);
  }

  /**
   * How the client comes back to this request (confirm, poll): opaque to the CA, stored with the request
   * and matched later. The CMP layer puts the transactionID (hex), the certReqId and the body name ("ir")
   * here; another protocol (EST, SCEP) puts its own.
   */
  public record ClientRef(String transaction, long item, String form) {}

  /** A request without archive options. */
  public EnrollRequest(Identity requester, ClientRef ref, Template template, X500Name subject,
      SubjectPublicKeyInfo publicKey, GeneralNames subjectAltNames, boolean implicitConfirm, String secretReference) {
    this(requester, ref, template, subject, publicKey, subjectAltNames, implicitConfirm, secretReference, null, null,
        null);
  }
}
