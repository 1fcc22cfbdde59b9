package org.keyarc.ca;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.CertificateStatus;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.keyarc.ca.audit.AuditLog;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.archive.KeyArchiver;
import org.keyarc.ca.store.Archives;
import org.keyarc.ca.store.CaKeys;
import org.keyarc.ca.store.RecoveryAgents;
import org.keyarc.ca.store.RecoveryRequests;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Certificates;
import org.keyarc.ca.store.Crls;
import org.keyarc.ca.store.RequestRecord;
import org.keyarc.ca.store.Requests;
import org.keyarc.ca.store.Roles;
import org.keyarc.ca.store.Roles.Role;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.store.Secrets;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.TemplateRules;
import org.keyarc.ca.template.Templates;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's operations, independent of the wire: enrollment (issue or hold for approval), confirmation,
 * polling, approval and denial, revocation and CRLs, one-time secrets, roles, the exchange key's
 * renewal and the audit chain. Every change and its audit record commit in one transaction; every role
 * check happens here, on the node.
 */
public final class CaService {
  private static final Logger LOG = LoggerFactory.getLogger(CaService.class);
  private static final byte[] SECRET_CONTEXT = "keyarc-enrollment-secret-v1".getBytes(StandardCharsets.US_ASCII);
  private static final Set<Role> SEPARATED = Set.of(Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);

  private final NodeConfig cfg;
  private final Store store;
  private final CaKeyring keys;
  private final Templates templates;
  private final Clock clock;
  private final SerialNumbers serials = new SerialNumbers();
  private final String issuer;
  private final KeyArchiver archiver;
  /**
   * Certificates (by SHA-256) whose CA signature was already verified: a signature does not change, so
   * it is checked once; validity, store status and roles are still checked on every request.
   */
  /**
   * Signer certificates whose CA signature has been checked, by SHA-256 of their DER, with a verifier for the
   * signer's own signatures: built once per certificate, so its public key (and Bouncy Castle's precomputation
   * for it) is reused by every request that certificate signs.
   */
  private final java.util.Map<String, ContentVerifierProvider> signers =
      new java.util.concurrent.ConcurrentHashMap<>();

  public CaService(NodeConfig cfg, Store store, CaKeyring keys, Templates templates, Clock clock) {
    this.cfg = cfg;
    this.store = store;
    this.keys = keys;
    this.templates = templates;
    this.clock = clock;
    this.issuer = keys.caName().toString();
    this.archiver = new KeyArchiver(keys.token(), keys, cfg.oaepHash(), cfg.archival.allowSoftwareUnwrap);
  }

  public CaKeyring keys() {
    return keys;
  }

  public Templates templates() {
    return templates;
  }

  public NodeConfig config() {
    return cfg;
  }

  public Store store() {
    return store;
  }

  public Instant now() {
    return clock.instant();
  }

  // ------------------------------------------------------------------ identities

  /**
   * The identity behind a signature-protection (or TLS client) certificate: it must be signed by this
   * CA, valid now, and ISSUED (not revoked, not waiting for confirmation) in the store.
   */
  public Identity identify(X509CertificateHolder cert) throws CaException {
    return checkSigner(cert).identity();
  }

  /** A signer certificate's identity, and the verifier for the signatures made with its key. */
  public record Signer(Identity identity, ContentVerifierProvider verifier) {}

  /**
   * {@link #identify}, with the verifier for the signer's own signatures (built once per certificate, with the
   * check that this CA signed it, and kept: its key and Bouncy Castle's precomputation serve every request).
   */
  @SuppressWarnings("unchecked")
  public Signer checkSigner(X509CertificateHolder cert) throws CaException {
    ContentVerifierProvider verifier = checkedSigner(cert);
    if (!cert.isValidOn(Date.from(now()))) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + hex(cert.getSerialNumber())
          + " is expired or not yet valid");
    }
    String subject = cert.getSubject().toString();
    Set<Role>[] roles = new Set[1];
    Optional<CertRecord> rec = tx(c -> {
      roles[0] = Roles.rolesOf(c, subject);
      return Certificates.find(c, issuer, cert.getSerialNumber());
    });
    if (rec.isEmpty()) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + hex(cert.getSerialNumber())
          + " is not in this CA's store");
    }
    if (rec.get().status() != CertRecord.Status.ISSUED) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate " + hex(cert.getSerialNumber())
          + " is " + rec.get().status().name().toLowerCase());
    }
    return new Signer(new Identity(Identity.Kind.CERTIFICATE, subject, roles[0]), verifier);
  }

  private ContentVerifierProvider checkedSigner(X509CertificateHolder cert) throws CaException {
    String digest = sha256Hex(der(cert));
    ContentVerifierProvider known = signers.get(digest);
    if (known != null) {
      return known;
    }
    ContentVerifierProvider verifier;
    try {
      if (!cert.getIssuer().equals(keys.caName()) || !cert.isSignatureValid(new JcaContentVerifierProviderBuilder()
          .setProvider(org.keyarc.protocol.Bc.PROVIDER).build(keys.caPublicKey()))) {
        throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate (" + cert.getSubject()
            + ") was not issued by this CA");
      }
      verifier = new JcaContentVerifierProviderBuilder().setProvider(org.keyarc.protocol.Bc.PROVIDER)
          .build(cert.getSubjectPublicKeyInfo());
    } catch (CertException | OperatorCreationException e) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "the signer certificate cannot be checked: "
          + e.getMessage());
    }
    if (signers.size() > 10_000) {
      signers.clear();
    }
    signers.put(digest, verifier);
    return verifier;
  }

  /** A one-time secret the client claims to know, and the secret itself (derived in the HSM). */
  public record SecretGrant(SecretRecord record, char[] secret) {
    @Override
    public String toString() {
      return "SecretGrant[" + record.reference() + "]";
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
    Optional<SecretRecord> rec = tx(c -> Secrets.find(c, reference));
    if (rec.isEmpty()) {
      throw new CaException(ErrorCode.SECRET_INVALID, "unknown secret reference '" + printable(reference) + "'");
    }
    SecretRecord s = rec.get();
    if (s.usedAt() != null && !continuing) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " was already used");
    }
    if (now().isAfter(s.expiresAt())) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference + " expired on "
          + s.expiresAt());
    }
    char[] secret = deriveSecret(reference, s.nonce());
    if (!sha256Hex(new String(secret).getBytes(StandardCharsets.UTF_8)).equals(s.secretHash())) {
      throw new CaException(ErrorCode.SECRET_INVALID, "the one-time secret " + reference
          + " no longer matches the CA's secret key (was the key replaced?)");
    }
    return new SecretGrant(s, secret);
  }

  /** A new one-time secret: the reference, the secret (shown once) and when it expires. */
  public record NewSecret(String reference, char[] secret, Instant expires, String template, String subject) {
    @Override
    public String toString() {
      return "NewSecret[" + reference + ", " + template + ", " + subject + "]";
    }
  }

  /** Creates a one-time enrollment secret for {@code template} and {@code subject}. Manager or administrator. */
  public NewSecret createSecret(Identity who, String templateName, X500Name subject) throws CaException {
    require(who, Role.MANAGER, Role.ADMINISTRATOR);
    Template t = template(templateName);
    TemplateRules.checkSubject(t, subject);
    byte[] nonce = random(16);
    String reference = HexFormat.of().formatHex(random(8));
    char[] secret = deriveSecret(reference, nonce);
    Instant now = now();
    Instant expires = now.plus(Duration.ofDays(cfg.timers.secretValidityDays));
    SecretRecord rec = new SecretRecord(reference, nonce, sha256Hex(new String(secret).getBytes(StandardCharsets.UTF_8)),
        t.name(), subject.toString(), who.actor(), now, expires, null);
    tx(c -> {
      Secrets.insert(c, rec);
      AuditLog.append(c, who.actor(), "secret.create", "secret:" + reference,
          "template=" + t.name() + " subject=" + subject + " expires=" + expires, now);
      return null;
    });
    return new NewSecret(reference, secret, expires, t.name(), subject.toString());
  }

  private char[] deriveSecret(String reference, byte[] nonce) throws CaException {
    byte[] data = concat(SECRET_CONTEXT, reference.getBytes(StandardCharsets.UTF_8), nonce);
    byte[] mac = hsm(() -> keys.token().call(s -> s.cmac(keys.macKey(), data)));
    String b32 = base32(mac);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < b32.length(); i += 4) {
      if (i > 0) {
        out.append('-');
      }
      out.append(b32, i, Math.min(b32.length(), i + 4));
    }
    java.util.Arrays.fill(mac, (byte) 0);
    char[] chars = new char[out.length()];
    out.getChars(0, out.length(), chars, 0);
    return chars;
  }

  // ------------------------------------------------------------------ enrollment

  /** One certificate request, already parsed and proven (POP, protection) by the wire layer. */
  public record EnrollRequest(Identity requester, String bodyType, String transactionId, long certReqId,
      Template template, X500Name subject, SubjectPublicKeyInfo publicKey, Extensions extensions,
      boolean implicitConfirm, String secretReference, EncryptedKey archive) {
    /** A request without archive options. */
    public EnrollRequest(Identity requester, String bodyType, String transactionId, long certReqId,
        Template template, X500Name subject, SubjectPublicKeyInfo publicKey, Extensions extensions,
        boolean implicitConfirm, String secretReference) {
      this(requester, bodyType, transactionId, certReqId, template, subject, publicKey, extensions, implicitConfirm,
          secretReference, null);
    }
  }

  /** What became of a request. */
  public sealed interface Outcome {
    /** Issued now; {@code confirmed} is false when the CA waits for certConf. */
    record Issued(X509CertificateHolder cert, boolean confirmed) implements Outcome {}

    /** Held for a certificate manager; the client polls. */
    record Pending(long requestId) implements Outcome {}
  }

  /** Checks the request against its template, then issues it or holds it for approval. */
  public Outcome enroll(EnrollRequest r) throws CaException {
    Template t = r.template();
    TemplateRules.checkSubject(t, r.subject());
    TemplateRules.checkKey(t, r.publicKey());
    if (t.archivePrivateKey()) {
      return enrollWithArchive(r);
    }
    if (r.archive() != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "template " + t.name() + " does not archive private keys, but the "
          + "request carries archive options; leave them out (nothing was stored)");
    }
    Instant now = now();
    if (t.requiresApproval()) {
      byte[] spki = der(r.publicKey());
      byte[] ext = r.extensions() == null ? null : der(r.extensions());
      long id = tx(c -> {
        consumeSecret(c, r.secretReference(), now);
        long rid = Requests.insertPending(c, r.transactionId(), r.certReqId(), r.requester().actor(), t.name(),
            r.subject().toString(), r.bodyType(), spki, ext, now);
        AuditLog.append(c, r.requester().actor(), "request.pending", "request:" + rid,
            "template=" + t.name() + " subject=" + r.subject(), now);
        return rid;
      });
      return new Outcome.Pending(id);
    }
    boolean confirmed = r.implicitConfirm();
    X509CertificateHolder cert = issueAndStore(r.requester().actor(), t, r.subject(), r.publicKey(), r.extensions(),
        confirmed ? CertRecord.Status.ISSUED : CertRecord.Status.UNCONFIRMED, null, r.transactionId(), now,
        (c, issued) -> consumeSecret(c, r.secretReference(), now));
    return new Outcome.Issued(cert, confirmed);
  }

  /**
   * Invariant 3, no archive, no certificate: the key is unwrapped, checked and re-wrapped to the agents
   * in the HSM first; then the certificate, the archive record, the secret's use and the audit record
   * commit in one transaction. A refusal leaves only its audit record.
   */
  private Outcome enrollWithArchive(EnrollRequest r) throws CaException {
    Template t = r.template();
    Instant now = now();
    try {
      if (r.archive() == null) {
        throw new CaException(ErrorCode.ARCHIVAL_REQUIRED, "template " + t.name() + " archives the subject's private "
            + "key: send it in PKIArchiveOptions (keyarc enroll --archive); nothing was stored");
      }
      RecoveryAgents.Policy policy = tx(RecoveryAgents::policy);
      List<X509CertificateHolder> agents = archivalAgents(policy);
      KeyArchiver.Sealed sealed = archiver.seal(r.archive(), r.publicKey(), agents, policy.threshold(), now);
      boolean confirmed = r.implicitConfirm();
      X509CertificateHolder cert = issueAndStore(r.requester().actor(), t, r.subject(), r.publicKey(), r.extensions(),
          confirmed ? CertRecord.Status.ISSUED : CertRecord.Status.UNCONFIRMED, null, r.transactionId(), now,
          (c, issued) -> {
            consumeSecret(c, r.secretReference(), now);
            byte[] der = der(issued);
            Archives.insert(c, new Archives.Row(issuer, issued.getSerialNumber(), r.subject().toString(),
                sha256Hex(der), sha1Hex(der), policy.threshold(), agents.size(), now,
                der(sealed.record(issued))));
            StringBuilder who = new StringBuilder();
            for (X509CertificateHolder a : agents) {
              who.append(who.length() == 0 ? "" : ",").append(hex(a.getSerialNumber()));
            }
            AuditLog.append(c, r.requester().actor(), "key.archive", "serial:" + hex(issued.getSerialNumber()),
                "threshold=" + policy.threshold() + " agents=" + who + (sealed.softwareUnwrap()
                    ? " unwrap=software (archival.allowSoftwareUnwrap)" : " unwrap=hsm"), now);
          });
      return new Outcome.Issued(cert, confirmed);
    } catch (CaException e) {
      auditRefusal(r, e);
      throw e;
    }
  }

  private void auditRefusal(EnrollRequest r, CaException e) {
    try {
      tx(c -> AuditLog.append(c, r.requester().actor(), "key.archive.refused", "subject:" + r.subject(),
          "code=" + e.code().number() + " " + printable(e.getMessage()), now()));
    } catch (CaException ignored) {
      LOG.warn("could not audit an archival refusal: {}", ignored.getMessage());
    }
  }

  // ------------------------------------------------------------------ recovery agents

  /** One configured agent and what is wrong with it (null when it can be used). */
  public record AgentStatus(RecoveryAgents.Agent agent, X509CertificateHolder cert, String problem) {}

  /** Every configured agent with its state, in order (one transaction for the agents and their records). */
  public List<AgentStatus> agentStatus() throws CaException {
    Instant now = now();
    record Configured(RecoveryAgents.Agent agent, Optional<CertRecord> rec) {}
    List<Configured> configured = tx(c -> {
      List<Configured> l = new java.util.ArrayList<>();
      for (RecoveryAgents.Agent a : RecoveryAgents.list(c)) {
        l.add(new Configured(a, Certificates.find(c, issuer, a.serial())));
      }
      return l;
    });
    List<AgentStatus> out = new java.util.ArrayList<>();
    for (Configured a : configured) {
      X509CertificateHolder cert;
      try {
        cert = new X509CertificateHolder(a.agent().cert());
      } catch (IOException e) {
        out.add(new AgentStatus(a.agent(), null, "certificate unreadable"));
        continue;
      }
      out.add(new AgentStatus(a.agent(), cert, agentProblem(cert, a.rec(), now)));
    }
    return out;
  }

  /** What keeps a certificate from serving as a recovery agent now, or null; {@code rec} is its store record. */
  private static String agentProblem(X509CertificateHolder cert, Optional<CertRecord> rec, Instant now) {
    if (!cert.isValidOn(Date.from(now))) {
      return now.isAfter(cert.getNotAfter().toInstant()) ? "expired " + cert.getNotAfter().toInstant()
          : "not valid before " + cert.getNotBefore().toInstant();
    }
    org.bouncycastle.asn1.x509.Extension eku = cert.getExtension(org.bouncycastle.asn1.x509.Extension.extendedKeyUsage);
    if (eku == null || !org.bouncycastle.asn1.x509.ExtendedKeyUsage.getInstance(eku.getParsedValue())
        .hasKeyPurposeId(org.bouncycastle.asn1.x509.KeyPurposeId.getInstance(Template.EKU_KEY_RECOVERY_AGENT))) {
      return "no Key Recovery Agent extended key usage";
    }
    if (!cert.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm().equals(
        org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption)) {
      return "not an RSA key";
    }
    if (rec.isEmpty()) {
      return "not issued by this CA";
    }
    if (rec.get().status() == CertRecord.Status.REVOKED) {
      return "revoked " + rec.get().revokedAt();
    }
    return null;
  }

  /** The N agents archival uses now: the first N valid ones in configuration order. */
  private List<X509CertificateHolder> archivalAgents(RecoveryAgents.Policy policy) throws CaException {
    List<AgentStatus> all = agentStatus();
    List<X509CertificateHolder> valid = new java.util.ArrayList<>();
    StringBuilder invalid = new StringBuilder();
    for (AgentStatus a : all) {
      if (a.problem() == null) {
        valid.add(a.cert());
      } else {
        invalid.append("; ").append(a.agent().subject()).append(" (serial ").append(hex(a.agent().serial()))
            .append("): ").append(a.problem());
      }
    }
    if (valid.size() < policy.agents()) {
      throw new CaException(ErrorCode.RECOVERY_AGENTS_UNAVAILABLE, "archival needs " + policy.agents()
          + " valid recovery agents and " + valid.size() + " of " + all.size() + " configured are valid"
          + (all.isEmpty() ? " (add agents with 'keyarc kra add')" : invalid) + "; nothing was stored");
    }
    return valid.subList(0, policy.agents());
  }

  /** Adds an agent by the serial of a KeyRecoveryAgent certificate this CA issued. Administrator only. */
  public RecoveryAgents.Agent addAgent(Identity who, BigInteger serial) throws CaException {
    require(who, Role.ADMINISTRATOR);
    CertRecord rec = tx(c -> Certificates.find(c, issuer, serial)).orElseThrow(() -> new CaException(
        ErrorCode.NOT_FOUND, "this CA issued no certificate with serial " + hex(serial)));
    X509CertificateHolder cert;
    try {
      cert = new X509CertificateHolder(rec.der());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Instant now = now();
    String problem = agentProblem(cert, Optional.of(rec), now);
    if (problem != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "certificate " + hex(serial) + " (" + rec.subject()
          + ") cannot be a recovery agent: " + problem);
    }
    RecoveryAgents.Agent a = new RecoveryAgents.Agent(issuer, serial, rec.subject(), rec.der(), who.actor(), now);
    boolean added = tx(c -> {
      boolean ok = RecoveryAgents.add(c, a);
      if (ok) {
        AuditLog.append(c, who.actor(), "kra.add", "serial:" + hex(serial), "subject=" + rec.subject(), now);
      }
      return ok;
    });
    if (!added) {
      throw new CaException(ErrorCode.BAD_REQUEST, rec.subject() + " (serial " + hex(serial)
          + ") is already a recovery agent");
    }
    return a;
  }

  /** Removes an agent (keys archived before stay encrypted to it). Administrator only. */
  public void removeAgent(Identity who, BigInteger serial) throws CaException {
    require(who, Role.ADMINISTRATOR);
    Instant now = now();
    boolean removed = tx(c -> {
      boolean ok = RecoveryAgents.remove(c, issuer, serial);
      if (ok) {
        AuditLog.append(c, who.actor(), "kra.remove", "serial:" + hex(serial), "", now);
      }
      return ok;
    });
    if (!removed) {
      throw new CaException(ErrorCode.NOT_FOUND, "serial " + hex(serial) + " is not a recovery agent");
    }
  }

  /** Sets N (agents per archived key) and M (threshold). Administrator only. */
  public void setArchivePolicy(Identity who, int agents, int threshold) throws CaException {
    require(who, Role.ADMINISTRATOR);
    if (threshold < 1 || threshold > agents || agents > 16) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the policy needs 1 <= M <= N <= 16, not N=" + agents + ", M="
          + threshold);
    }
    Instant now = now();
    tx(c -> {
      RecoveryAgents.setPolicy(c, new RecoveryAgents.Policy(agents, threshold));
      AuditLog.append(c, who.actor(), "kra.policy", "archive", "agents=" + agents + " threshold=" + threshold, now);
      return null;
    });
  }

  public RecoveryAgents.Policy archivePolicy() throws CaException {
    return tx(RecoveryAgents::policy);
  }

  /** A recovery blob: the certificate it is for and the CA-signed DER. */
  public record KeyBlob(BigInteger serial, String subject, int threshold, int agents, byte[] blob) {}

  /**
   * getkey (like {@code certutil -getkey}): the archive records found, each as a CMS SignedData signed by
   * the CA key (content: the ArchiveRecord; certificates: CA, the key's certificate, the agents'). The
   * blob is ciphertext only: the manager who fetches it cannot open it. Manager only, audited.
   */
  public List<KeyBlob> getKey(Identity who, BigInteger serial, String subject, String certHash) throws CaException {
    List<Archives.Row> rows = findArchives(who, serial, subject, certHash);
    List<KeyBlob> out = new java.util.ArrayList<>();
    Instant now = now();
    for (Archives.Row row : rows) {
      org.keyarc.protocol.archive.ArchiveRecord rec = org.keyarc.protocol.archive.ArchiveRecord.getInstance(row.record());
      try {
        org.bouncycastle.cms.CMSSignedDataGenerator g = new org.bouncycastle.cms.CMSSignedDataGenerator();
        g.addSignerInfoGenerator(new org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder(
            new JcaDigestCalculatorProviderBuilder().build()).build(keys.caSigner(), keys.caCert()));
        List<X509CertificateHolder> certs = new java.util.ArrayList<>();
        certs.add(keys.caCert());
        for (BigInteger s : certSerials(rec)) {
          tx(c -> Certificates.find(c, issuer, s)).ifPresent(r -> {
            try {
              certs.add(new X509CertificateHolder(r.der()));
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
        }
        g.addCertificates(new org.bouncycastle.cert.jcajce.JcaCertStore(certs.stream().map(h -> {
          try {
            return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(h);
          } catch (java.security.cert.CertificateException e) {
            throw new IllegalStateException(e);
          }
        }).toList()));
        byte[] blob = g.generate(new org.bouncycastle.cms.CMSProcessableByteArray(
            org.keyarc.protocol.KeyarcCmp.ARCHIVE_RECORD, row.record()), true).getEncoded("DER");
        out.add(new KeyBlob(row.serial(), row.subject(), row.threshold(), row.agents(), blob));
      } catch (org.bouncycastle.cms.CMSException | OperatorCreationException | IOException
          | java.security.cert.CertificateEncodingException e) {
        throw new CaException(ErrorCode.STORE_ERROR, "cannot build the recovery blob: " + e.getMessage(), e);
      } catch (HsmException e) {
        throw new CaException(hsmCode(e), "cannot sign the recovery blob: " + e.getMessage(), e);
      }
      tx(c -> AuditLog.append(c, who.actor(), "key.getkey", "serial:" + hex(row.serial()),
          "subject=" + row.subject() + " threshold=" + row.threshold() + " agents=" + row.agents(), now));
    }
    if (out.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "no archived key matches");
    }
    return out;
  }

  // ------------------------------------------------------------------ online recovery

  /** Opens an online recovery of the key of certificate {@code serial}. Certificate manager; audited. */
  public long openRecovery(Identity who, BigInteger serial) throws CaException {
    KeyBlob b = getKey(who, serial, null, null).get(0);
    Instant now = now();
    return tx(c -> {
      long id = RecoveryRequests.open(c, hex(b.serial()), b.subject(), b.threshold(), b.blob(), who.actor(), now);
      AuditLog.append(c, who.actor(), "recovery.open", "recovery:" + id, "serial=" + hex(b.serial()) + " threshold="
          + b.threshold(), now);
      return id;
    });
  }

  /** Recoveries (open ones unless {@code all}). Certificate managers and recovery agents. */
  public List<RecoveryRequests.Row> recoveries(Identity who, boolean all) throws CaException {
    require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return tx(c -> RecoveryRequests.list(c, !all));
  }

  public RecoveryRequests.Row recovery(Identity who, long id) throws CaException {
    require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return tx(c -> RecoveryRequests.find(c, id)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "no recovery " + id));
  }

  public List<RecoveryRequests.Step> recoverySteps(Identity who, long id) throws CaException {
    require(who, Role.MANAGER, Role.RECOVERY_AGENT);
    return tx(c -> RecoveryRequests.steps(c, id));
  }

  /**
   * Records an agent's step: the agent (a recovery agent whose certificate subject is that of the Key
   * Recovery Agent certificate {@code agentCert}) hands back the new partial recovery, or reports that
   * its step completed the recovery ({@code progress} null). Recovery agents only; audited.
   */
  public void recoveryStep(Identity who, long id, BigInteger agentCert, String card, byte[] progress)
      throws CaException {
    recoveryStep(who, id, agentCert, card, progress, false);
  }

  /**
   * With {@code check}, only checks that this agent may do the next step of recovery {@code id} (an agent
   * asks before it opens anything with its card) and records nothing.
   */
  public void recoveryStep(Identity who, long id, BigInteger agentCert, String card, byte[] progress, boolean check)
      throws CaException {
    try {
      checkedRecoveryStep(who, id, agentCert, card, progress, check);
    } catch (CaException e) {
      if (e.code() != ErrorCode.NOT_AUTHORIZED || who.has(Role.RECOVERY_AGENT)) {
        try {
          tx(c -> AuditLog.append(c, who.actor(), "recovery.refused", "recovery:" + id, "agentCert=" + hex(agentCert)
              + " card=" + printable(card) + " code=" + e.code().number() + " " + printable(e.getMessage()), now()));
        } catch (CaException ignored) {
          LOG.warn("could not audit a refused recovery step: {}", ignored.getMessage());
        }
      }
      throw e;
    }
  }

  private void checkedRecoveryStep(Identity who, long id, BigInteger agentCert, String card, byte[] progress,
      boolean check) throws CaException {
    require(who, Role.RECOVERY_AGENT);
    RecoveryRequests.Row r = recovery(who, id);
    if (!r.status().equals("OPEN")) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " is already " + r.status().toLowerCase());
    }
    org.keyarc.protocol.archive.ArchiveRecord rec = org.keyarc.protocol.archive.ArchiveRecord.getInstance(
        tx(c -> Archives.bySerial(c, issuer, new BigInteger(r.serial(), 16))).get(0).record());
    int index = -1;
    for (int i = 0; i < rec.agents().size(); i++) {
      if (rec.agents().get(i).getSerialNumber().getValue().equals(agentCert)) {
        index = i;
      }
    }
    if (index < 0) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "certificate " + hex(agentCert) + " is not an agent of this "
          + "archive");
    }
    CertRecord agentRecord = tx(c -> Certificates.find(c, issuer, agentCert)).orElseThrow(() -> new CaException(
        ErrorCode.NOT_FOUND, "no agent certificate " + hex(agentCert)));
    if (agentRecord.status() == CertRecord.Status.REVOKED) {
      throw new CaException(ErrorCode.CERT_REVOKED, "the agent certificate " + hex(agentCert) + " ("
          + agentRecord.subject() + ") was revoked on " + agentRecord.revokedAt() + ": it can no longer take part in "
          + "a recovery");
    }
    if (!agentRecord.subject().equals(who.name())) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " is not the agent " + agentRecord.subject());
    }
    List<RecoveryRequests.Step> done = recoverySteps(who, id);
    for (RecoveryRequests.Step st : done) {
      if (st.agentCert().equals(hex(agentCert))) {
        throw new CaException(ErrorCode.BAD_REQUEST, agentRecord.subject() + " already did a step of recovery " + id);
      }
    }
    if (check) {
      return;
    }
    if (progress == null && done.size() != r.threshold() - 1) {
      throw new CaException(ErrorCode.BAD_REQUEST, "recovery " + id + " needs " + r.threshold() + " steps; "
          + done.size() + " are done, so this one cannot be the last");
    }
    if (progress != null) {
      org.keyarc.protocol.archive.RecoveryProgress p = org.keyarc.protocol.archive.RecoveryProgress.parse(progress);
      if (p == null || p.done().size() != done.size() + 1 || !p.done().contains(index)) {
        throw new CaException(ErrorCode.BAD_INPUT, "the partial recovery does not record this agent's step");
      }
    }
    Instant now = now();
    RecoveryRequests.Step step = new RecoveryRequests.Step(done.size() + 1, who.actor(), hex(agentCert), card, now);
    tx(c -> {
      RecoveryRequests.step(c, id, step, progress);
      AuditLog.append(c, who.actor(), progress == null ? "recovery.complete" : "recovery.step", "recovery:" + id,
          "step=" + step.step() + " agentCert=" + hex(agentCert) + " card=" + printable(card), now);
      return null;
    });
  }

  private static List<BigInteger> certSerials(org.keyarc.protocol.archive.ArchiveRecord rec) {
    List<BigInteger> out = new java.util.ArrayList<>();
    out.add(rec.certificateSerial());
    rec.agents().forEach(a -> out.add(a.getSerialNumber().getValue()));
    return out;
  }

  /** Archive records by certificate serial, subject or certificate hash (getkey groundwork). Manager only. */
  public List<Archives.Row> findArchives(Identity who, BigInteger serial, String subject, String certHash)
      throws CaException {
    require(who, Role.MANAGER);
    if (serial != null) {
      return tx(c -> Archives.bySerial(c, issuer, serial));
    }
    if (subject != null) {
      return tx(c -> Archives.bySubject(c, new X500Name(subject).toString()));
    }
    return tx(c -> Archives.byCertHash(c, certHash));
  }

  /** Extra work in the issuing transaction, given the new certificate. */
  private interface TxHook {
    void run(Connection c, X509CertificateHolder cert) throws SQLException;
  }

  /** Signs in the HSM, then stores certificate + audit (+ hook) in one transaction; retries a serial clash. */
  private X509CertificateHolder issueAndStore(String actor, Template t, X500Name subject, SubjectPublicKeyInfo spki,
      Extensions ext, CertRecord.Status status, Long requestId, String transactionId, Instant now, TxHook hook)
      throws CaException {
    for (int attempt = 0; ; attempt++) {
      BigInteger serial = serials.next();
      X509CertificateHolder cert = sign(t, subject, spki, ext, serial, now);
      byte[] der = der(cert);
      CertRecord rec = new CertRecord(issuer, serial, subject.toString(), t.name(),
          cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant(), status,
          status == CertRecord.Status.UNCONFIRMED ? now.plus(cfg.certConfTimeout()) : null, null, null, requestId,
          sha256Hex(der), now, der, transactionId);
      try {
        groupTx(c -> {
          if (hook != null) {
            hook.run(c, cert);
          }
          Certificates.insert(c, rec);
          AuditLog.append(c, actor, "cert.issue", "serial:" + hex(serial),
              "template=" + t.name() + " subject=" + subject + " status=" + status, now);
          return null;
        });
        return cert;
      } catch (CaException e) {
        if (attempt < 2 && e.getCause() instanceof StoreException se && se.isConstraintViolation()
            && tx(c -> Certificates.find(c, issuer, serial)).isPresent()) {
          LOG.warn("serial collision on {}; drawing another", hex(serial));
          continue;
        }
        throw e;
      }
    }
  }

  private X509CertificateHolder sign(Template t, X500Name subject, SubjectPublicKeyInfo spki, Extensions ext,
      BigInteger serial, Instant now) throws CaException {
    try {
      return CertFactory.endEntity(keys.caCert(), t, subject, spki, ext, serial, now, cfg.ca.crlUrl,
          hsm(keys::caSigner));
    } catch (CertIOException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the requested extensions cannot be encoded: " + e.getMessage());
    }
  }

  private static void consumeSecret(Connection c, String reference, Instant now) throws SQLException {
    if (reference != null && !Secrets.markUsed(c, reference, now)) {
      throw new SecretReused(reference);
    }
  }

  /** Thrown inside a transaction when another request used the secret first. */
  private static final class SecretReused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SecretReused(String reference) {
      super("the one-time secret " + reference + " was already used");
    }
  }

  /**
   * certConf: each status accepts (ISSUED) or rejects (the certificate is revoked) a certificate of the
   * transaction; a wrong certHash is refused. Returns how many certificates were confirmed.
   */
  public int confirm(Identity who, String transactionId, CertificateStatus[] statuses) throws CaException {
    List<CertRecord> issued = tx(c -> Certificates.ofTransaction(c, transactionId));
    if (issued.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "this transaction issued no certificate");
    }
    int confirmed = 0;
    Instant now = now();
    for (CertificateStatus st : statuses) {
      CertRecord m = null;
      for (CertRecord rec : issued) {
        try {
          if (st.isVerified(new X509CertificateHolder(rec.der()), new JcaDigestCalculatorProviderBuilder().build())) {
            m = rec;
          }
        } catch (CMPException | IOException | OperatorCreationException e) {
          throw new CaException(ErrorCode.BAD_MESSAGE, "the certConf hash cannot be checked: " + e.getMessage());
        }
      }
      if (m == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "certConf names a certificate hash this transaction did not "
            + "issue");
      }
      boolean accepted = st.getStatusInfo() == null || st.getStatusInfo().getStatus().intValue() <= 1;
      if (m.status() == CertRecord.Status.REVOKED) {
        throw new CaException(ErrorCode.CERT_REVOKED, "certificate " + hex(m.serial()) + " was revoked: its certConf "
            + "came too late or it was rejected before");
      }
      if (m.status() == CertRecord.Status.ISSUED && accepted) {
        confirmed++; // issued on approval, or confirmed before: nothing to change
        continue;
      }
      CertRecord match = m;
      tx(c -> {
        if (accepted) {
          Certificates.confirm(c, issuer, match.serial());
          AuditLog.append(c, who.actor(), "cert.confirm", "serial:" + hex(match.serial()), "subject="
              + match.subject(), now);
        } else {
          Certificates.revoke(c, issuer, match.serial(), CRLReason.cessationOfOperation, now);
          AuditLog.append(c, who.actor(), "cert.revoke", "serial:" + hex(match.serial()),
              "reason=cessationOfOperation cause=rejected-by-client", now);
        }
        return null;
      });
      if (accepted) {
        confirmed++;
      } else {
        publishCrlQuietly();
      }
    }
    return confirmed;
  }

  /** Revokes every certificate whose certConf never came; returns how many. */
  public int reapUnconfirmed() throws CaException {
    Instant now = now();
    List<CertRecord> late = tx(c -> Certificates.unconfirmedBefore(c, now));
    for (CertRecord r : late) {
      tx(c -> {
        if (Certificates.revoke(c, issuer, r.serial(), CRLReason.cessationOfOperation, now)) {
          AuditLog.append(c, "ca-node", "cert.revoke", "serial:" + hex(r.serial()),
              "reason=cessationOfOperation cause=no-certConf", now);
        }
        return null;
      });
    }
    if (!late.isEmpty()) {
      publishCrl("ca-node");
    }
    return late.size();
  }

  /** The state of a request as a pollReq sees it. */
  public sealed interface PollResult {
    record Waiting(int checkAfterSeconds) implements PollResult {}

    record Issued(X509CertificateHolder cert, String bodyType) implements PollResult {}

    record Denied(String reason, String bodyType) implements PollResult {}
  }

  /** pollReq: the request of this transaction — still pending, issued, or denied. Only its requester may ask. */
  public PollResult poll(Identity who, String transactionId, long certReqId) throws CaException {
    RequestRecord r = tx(c -> Requests.findByTransaction(c, transactionId, certReqId))
        .orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND, "no request " + certReqId
            + " in this transaction is waiting"));
    if (who == null || !r.requester().equals(who.actor())) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "only the requester may poll request " + r.id());
    }
    switch (r.status()) {
      case PENDING:
        return new PollResult.Waiting(cfg.timers.pollIntervalSeconds);
      case DENIED:
        return new PollResult.Denied(r.reason(), r.bodyType());
      default:
        CertRecord cert = tx(c -> Certificates.find(c, issuer, new BigInteger(r.certSerial(), 16))).orElseThrow(
            () -> new CaException(ErrorCode.STORE_ERROR, "request " + r.id() + " is approved but its certificate "
                + "is missing from the store"));
        try {
          return new PollResult.Issued(new X509CertificateHolder(cert.der()), r.bodyType());
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
    }
  }

  // ------------------------------------------------------------------ certificate manager

  public List<RequestRecord> requests(Identity who, RequestRecord.Status status) throws CaException {
    require(who, Role.MANAGER);
    return tx(c -> Requests.list(c, status, 1000));
  }

  public RequestRecord request(Identity who, long id) throws CaException {
    require(who, Role.MANAGER);
    return tx(c -> Requests.find(c, id)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND, "no request " + id));
  }

  /** Approves a pending request: the certificate is issued now and waits for the client's poll. */
  public X509CertificateHolder approve(Identity who, long id) throws CaException {
    RequestRecord r = request(who, id);
    if (r.status() != RequestRecord.Status.PENDING) {
      throw new CaException(ErrorCode.BAD_REQUEST, "request " + id + " is already " + r.status().name().toLowerCase());
    }
    Template t = template(r.template());
    X500Name subject = new X500Name(r.subject());
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(r.publicKey());
    Extensions ext = r.extensions() == null ? null : Extensions.getInstance(r.extensions());
    Instant now = now();
    // the decision, the certificate and both audit records commit together
    return issueAndStore(who.actor(), t, subject, spki, ext, CertRecord.Status.ISSUED, id, r.transactionId(), now,
        (c, cert) -> {
          String serial = hex(cert.getSerialNumber());
          if (!Requests.decide(c, id, RequestRecord.Status.APPROVED, who.actor(), null, serial, now)) {
            throw new NotFound("request " + id + " was decided by someone else meanwhile");
          }
          AuditLog.append(c, who.actor(), "request.approve", "request:" + id, "serial=" + serial, now);
        });
  }

  /** Denies a pending request; the client's next poll gets the denial and the reason. */
  public void deny(Identity who, long id, String reason) throws CaException {
    RequestRecord r = request(who, id);
    if (r.status() != RequestRecord.Status.PENDING) {
      throw new CaException(ErrorCode.BAD_REQUEST, "request " + id + " is already " + r.status().name().toLowerCase());
    }
    String why = reason == null || reason.isBlank() ? "denied" : reason;
    Instant now = now();
    tx(c -> {
      if (!Requests.decide(c, id, RequestRecord.Status.DENIED, who.actor(), why, null, now)) {
        throw new SQLException("request " + id + " was decided by someone else meanwhile");
      }
      AuditLog.append(c, who.actor(), "request.deny", "request:" + id, "reason=" + why, now);
      return null;
    });
  }

  /** Certificates, newest first. Manager, administrator or auditor. */
  public List<CertRecord> certificates(Identity who, CertRecord.Status status, String subject, int limit)
      throws CaException {
    require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    return tx(c -> Certificates.list(c, status, subject, limit));
  }

  /** The template a certificate of this CA was issued under (kur keeps it). */
  public String templateOf(BigInteger serial) throws CaException {
    return tx(c -> Certificates.find(c, issuer, serial)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "no certificate with serial " + hex(serial))).template();
  }

  public CertRecord certificate(Identity who, BigInteger serial) throws CaException {
    require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    return tx(c -> Certificates.find(c, issuer, serial)).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "no certificate with serial " + hex(serial)));
  }

  /**
   * Revokes a certificate of this CA, then publishes a new CRL. A certificate manager may revoke any
   * certificate; anyone else only the certificate their own message was signed with.
   */
  public void revoke(Identity who, BigInteger serial, int reason, BigInteger signerSerial) throws CaException {
    if (!who.has(Role.MANAGER) && !serial.equals(signerSerial)) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "only a certificate manager, or the holder of the "
          + "certificate itself, may revoke " + hex(serial));
    }
    if (reason < 0 || reason > 10 || reason == 7) {
      throw new CaException(ErrorCode.BAD_REQUEST, "revocation reason " + reason + " is not a CRLReason");
    }
    Instant now = now();
    tx(c -> {
      CertRecord rec = Certificates.find(c, issuer, serial).orElse(null);
      if (rec == null) {
        throw new NotFound("no certificate with serial " + hex(serial));
      }
      if (!Certificates.revoke(c, issuer, serial, reason, now)) {
        throw new AlreadyRevoked("certificate " + hex(serial) + " is already revoked");
      }
      AuditLog.append(c, who.actor(), "cert.revoke", "serial:" + hex(serial),
          "reason=" + reasonName(reason) + " subject=" + rec.subject(), now);
      return null;
    });
    publishCrl(who.actor());
  }

  private static final class NotFound extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotFound(String m) {
      super(m);
    }
  }

  private static final class AlreadyRevoked extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AlreadyRevoked(String m) {
      super(m);
    }
  }

  // ------------------------------------------------------------------ CRLs

  /** Signs and stores a new CRL of every revoked, unexpired certificate. */
  public X509CRLHolder publishCrl(String actor) throws CaException {
    Instant now = now();
    List<CertRecord> revoked = tx(c -> Certificates.revokedUnexpired(c, issuer, now));
    // number, sign and store in one go: two nodes publishing at once get distinct numbers or one fails
    return tx(c -> {
      long number = Crls.nextNumber(c);
      X509CRLHolder crl;
      byte[] der;
      try {
        crl = CertFactory.crl(keys.caCert(), revoked, number, now,
            now.plus(Duration.ofHours(cfg.timers.crlValidityHours)), keys.caSigner());
        der = crl.getEncoded();
      } catch (IOException | HsmException e) {
        throw new SQLException("cannot sign the CRL: " + e.getMessage(), e);
      }
      Crls.insert(c, new Crls.Row(number, now, now.plus(Duration.ofHours(cfg.timers.crlValidityHours)), der));
      AuditLog.append(c, actor, "crl.publish", "crl:" + number, "entries=" + revoked.size(), now);
      return crl;
    });
  }

  private void publishCrlQuietly() {
    try {
      publishCrl("ca-node");
    } catch (CaException e) {
      LOG.warn("CRL not published: {}", e.getMessage());
    }
  }

  /** The newest CRL, published now if there is none or it has expired. */
  public X509CRLHolder currentCrl() throws CaException {
    Optional<Crls.Row> row = tx(Crls::latest);
    if (row.isEmpty() || !row.get().nextUpdate().isAfter(now())) {
      return publishCrl("ca-node");
    }
    try {
      return new X509CRLHolder(row.get().der());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ roles

  /** Grants a role to a subject. Administrator only; role separation refuses a second separated role. */
  public void grant(Identity who, String subject, Role role) throws CaException {
    require(who, Role.ADMINISTRATOR);
    Instant now = now();
    String normalized = new X500Name(subject).toString();
    tx(c -> {
      Set<Role> held = Roles.rolesOf(c, normalized);
      if (cfg.roleSeparation) {
        for (Role r : held) {
          boolean bothSeparated = SEPARATED.contains(role) && SEPARATED.contains(r);
          // a manager fetches blobs, an agent opens them: one identity must not do both
          boolean fetchAndOpen = Set.of(role, r).equals(Set.of(Role.MANAGER, Role.RECOVERY_AGENT));
          if (r != role && (bothSeparated || fetchAndOpen)) {
            throw new RoleConflict(normalized + " already holds " + r.name().toLowerCase().replace('_', ' ')
                + "; with role separation on, one identity cannot also be " + role.name().toLowerCase().replace('_', ' '));
          }
        }
      }
      if (Roles.grant(c, normalized, role, who.actor(), now)) {
        AuditLog.append(c, who.actor(), "role.grant", normalized, "role=" + role.name(), now);
      }
      return null;
    });
  }

  /** Removes a role. Administrator only. */
  public void revokeRole(Identity who, String subject, Role role) throws CaException {
    require(who, Role.ADMINISTRATOR);
    Instant now = now();
    String normalized = new X500Name(subject).toString();
    boolean removed = tx(c -> {
      boolean r = Roles.revoke(c, normalized, role);
      if (r) {
        AuditLog.append(c, who.actor(), "role.revoke", normalized, "role=" + role.name(), now);
      }
      return r;
    });
    if (!removed) {
      throw new CaException(ErrorCode.NOT_FOUND, normalized + " does not hold " + role.name().toLowerCase());
    }
  }

  public List<Roles.Member> roles(Identity who) throws CaException {
    require(who, Role.ADMINISTRATOR, Role.AUDITOR);
    return tx(Roles::list);
  }

  private static final class RoleConflict extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RoleConflict(String m) {
      super(m);
    }
  }

  // ------------------------------------------------------------------ audit

  /** Signs the chain head if it moved. */
  public long checkpoint() throws CaException {
    AuditLog.Signer signer = auditSigner();
    return tx(c -> {
      try {
        return AuditLog.checkpoint(c, signer, now());
      } catch (SQLException e) {
        throw e;
      } catch (Exception e) {
        throw new SQLException("cannot sign the audit checkpoint: " + e.getMessage(), e);
      }
    });
  }

  /** The audit key as a checkpoint signer. */
  public AuditLog.Signer auditSigner() {
    return new AuditLog.Signer() {
      @Override
      public String keyLabel() {
        return keys.auditKey().label();
      }

      @Override
      public byte[] sign(byte[] data) throws Exception {
        return keys.token().call(s -> s.sign(keys.auditKey(), SignatureAlgorithm.SHA256_WITH_ECDSA, data));
      }
    };
  }

  /** Verifies the chain with the audit public keys. Auditor only. */
  public AuditLog.Verification verifyAudit(Identity who) throws CaException {
    require(who, Role.AUDITOR);
    return verifyAudit(store, keys.token());
  }

  /**
   * Verifies the chain of {@code store} with the audit public keys read from the CA token itself, so
   * that someone who can write the database cannot swap the key and re-sign the checkpoints.
   */
  public static AuditLog.Verification verifyAudit(Store store, org.keyarc.hsm.HsmToken token) throws CaException {
    List<CaKeys.Row> rows = tx(store, c -> CaKeys.list(c, CaKeys.Kind.AUDIT));
    Map<String, PublicKey> keys = new HashMap<>();
    List<String> mismatch = new java.util.ArrayList<>();
    for (CaKeys.Row r : rows) {
      PublicKey inToken = hsm(() -> token.call(s -> s.publicKey(s.findKey(
          org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, r.keyLabel()))));
      keys.put(r.keyLabel(), inToken);
      if (!java.util.Arrays.equals(inToken.getEncoded(), r.publicKey())) {
        mismatch.add("the audit key '" + r.keyLabel() + "' in the store is not the one in token " + token.label()
            + ": the store was edited");
      }
    }
    AuditLog.Verification v = tx(store, c -> AuditLog.verify(c, keys));
    if (mismatch.isEmpty()) {
      return v;
    }
    mismatch.addAll(v.problems());
    return new AuditLog.Verification(v.records(), v.checkpoints(), v.lastCheckpoint(), mismatch);
  }

  /** Verifies the chain of {@code store} with the audit keys recorded at init. */
  public static AuditLog.Verification verifyAudit(Store store) throws CaException {
    return tx(store, c -> {
      Map<String, PublicKey> keys = new HashMap<>();
      for (CaKeys.Row r : CaKeys.list(c, CaKeys.Kind.AUDIT)) {
        keys.put(r.keyLabel(), CaKeyring.publicKey(SubjectPublicKeyInfo.getInstance(r.publicKey())));
      }
      return AuditLog.verify(c, keys);
    });
  }

  // ------------------------------------------------------------------ configuration

  /**
   * Records the node's effective configuration in the audit log when it differs from the last one
   * recorded (a configuration change is an audited event). Returns true when a record was written.
   */
  public boolean recordConfiguration(String effectiveJson) throws CaException {
    String digest = sha256Hex(effectiveJson.getBytes(StandardCharsets.UTF_8));
    Instant now = now();
    return tx(c -> {
      String last = null;
      try (var ps = c.prepareStatement("SELECT detail FROM audit_record WHERE action = 'config.change' "
          + "ORDER BY seq DESC LIMIT 1"); var rs = ps.executeQuery()) {
        if (rs.next()) {
          last = rs.getString(1);
        }
      }
      if (last != null && last.startsWith("sha256=" + digest)) {
        return false;
      }
      String detail = "sha256=" + digest + " " + effectiveJson;
      AuditLog.append(c, "ca-node", "config.change", "node", detail.length() > 4000
          ? detail.substring(0, 3997) + "..." : detail, now);
      return true;
    });
  }

  // ------------------------------------------------------------------ exchange key

  /**
   * Creates a new exchange key and certificate when the newest one expires within
   * {@code ca.exchangeRenewBeforeDays} (or there is none). Old ones stay. Returns the new certificate,
   * or empty when no renewal was due.
   */
  public Optional<X509CertificateHolder> renewExchangeIfDue(String actor) throws CaException {
    Instant now = now();
    Optional<CaKeyring.Exchange> current = keys.currentExchange(now);
    if (current.isPresent() && current.get().cert().getNotAfter().toInstant()
        .isAfter(now.plus(Duration.ofDays(cfg.ca.exchangeRenewBeforeDays)))) {
      return Optional.empty();
    }
    X509CertificateHolder cert = CaInit.newExchange(store, keys.token(), keys, cfg, actor, now);
    hsm(() -> {
      keys.reloadExchanges(store);
      return null;
    });
    LOG.info("new CA exchange certificate {} valid until {}", hex(cert.getSerialNumber()), cert.getNotAfter());
    return Optional.of(cert);
  }

  // ------------------------------------------------------------------ helpers

  public Template template(String name) throws CaException {
    return templates.find(name).orElseThrow(() -> new CaException(ErrorCode.UNKNOWN_TEMPLATE, "unknown template '"
        + printable(name) + "'; this CA offers " + String.join(", ",
            templates.all().stream().map(Template::name).toList())));
  }

  public static void require(Identity who, Role... anyOf) throws CaException {
    for (Role r : anyOf) {
      if (who.has(r)) {
        return;
      }
    }
    StringBuilder names = new StringBuilder();
    for (Role r : anyOf) {
      names.append(names.length() == 0 ? "" : " or ").append(r.name().toLowerCase().replace('_', ' '));
    }
    throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " is not a " + names + " on this CA");
  }

  private <T> T tx(Store.TxWork<T> work) throws CaException {
    return tx(store, work);
  }

  /** A transaction that may share its commit with other threads' (the issuance hot path; group commit). */
  private <T> T groupTx(Store.TxWork<T> work) throws CaException {
    return translate(() -> store.inGroupTransaction(work));
  }

  /** Runs a transaction; store failures and the in-transaction refusals become CaExceptions. */
  static <T> T tx(Store store, Store.TxWork<T> work) throws CaException {
    return translate(() -> store.inTransaction(work));
  }

  private static <T> T translate(java.util.function.Supplier<T> run) throws CaException {
    try {
      return run.get();
    } catch (SecretReused e) {
      throw new CaException(ErrorCode.SECRET_INVALID, e.getMessage());
    } catch (NotFound e) {
      throw new CaException(ErrorCode.NOT_FOUND, e.getMessage());
    } catch (AlreadyRevoked e) {
      throw new CaException(ErrorCode.CERT_REVOKED, e.getMessage());
    } catch (RoleConflict e) {
      throw new CaException(ErrorCode.ROLE_CONFLICT, e.getMessage());
    } catch (StoreException e) {
      throw new CaException(ErrorCode.STORE_ERROR, e.getMessage(), e);
    }
  }

  /** Work against the HSM. */
  interface HsmWork<T> {
    T run() throws HsmException;
  }

  static <T> T hsm(HsmWork<T> work) throws CaException {
    try {
      return work.run();
    } catch (HsmException e) {
      throw new CaException(hsmCode(e), e.getMessage(), e);
    }
  }

  /** The ErrorCode of an HSM failure. */
  public static ErrorCode hsmCode(HsmException e) {
    return hsmCode(e.reason());
  }

  /** The ErrorCode of an HSM failure reason (the CLI's exit code for it, too). */
  public static ErrorCode hsmCode(HsmException.Reason reason) {
    return ErrorCode.of(reason);
  }


  private byte[] random(int n) throws CaException {
    return hsm(() -> keys.token().call(s -> s.random(n)));
  }

  static byte[] der(org.bouncycastle.asn1.ASN1Encodable e) {
    try {
      return e.toASN1Primitive().getEncoded("DER");
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  static byte[] der(X509CertificateHolder c) {
    try {
      return c.getEncoded();
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  public static String hex(BigInteger serial) {
    return serial.toString(16);
  }

  public static String sha1Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String reasonName(int reason) {
    String[] names = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", "?", "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
    return reason >= 0 && reason < names.length ? names[reason] : String.valueOf(reason);
  }

  /** Keeps untrusted text short and printable in messages. */
  public static String printable(String s) {
    if (s == null) {
      return "";
    }
    String t = s.replaceAll("[^\\x20-\\x7e]", "?");
    return t.length() > 64 ? t.substring(0, 64) + "..." : t;
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int off = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
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
