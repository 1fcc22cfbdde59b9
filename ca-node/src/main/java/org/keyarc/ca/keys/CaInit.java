package org.keyarc.ca.keys;

import java.io.IOException;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.ca.template.Template;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmSigners;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.cmp.ResponderCertificate;

/**
 * {@code keyarc ca init} and {@code keyarc ca import-cert}: creates the CA's keys inside the CA token
 * (signing key, audit key, secret-MAC key, first exchange key, first CMP responder key) and records their
 * certificates.
 */
public final class CaInit {
  private static final BcX509ExtensionUtils EXT = new BcX509ExtensionUtils();

  private CaInit() {}

  /** What init made. {@code caCert} is null and {@code csr} set when the CA waits for an external parent. */
  public record Result(X509CertificateHolder caCert, PKCS10CertificationRequest csr,
      X509CertificateHolder exchangeCert, PublicKey auditKey) {}

  /**
   * Initialises a CA. With {@code externalParent} the CA key is made and a PKCS#10 returned; the CA
   * becomes usable after {@link #importCertificate}. {@code admin} (may be null) is the first administrator's
   * name, checked here before any key is made and recorded with the ceremony; the role itself is granted by the
   * one-time secret the caller makes next ({@code SecretService.createGranting}), bound to the key of the first
   * certificate issued from it, never to the name.
   */
  public static Result init(Store store, HsmToken token, NodeSettings.Ca cfg, boolean externalParent, String admin)
      throws CaException {
    return init(store, token, token, cfg, externalParent, admin);
  }

  /** {@link #init(Store, HsmToken, NodeSettings.Ca, boolean, String)} with the exchange keys on {@code archival}. */
  public static Result init(Store store, HsmToken token, HsmToken archival, NodeSettings.Ca cfg,
      boolean externalParent, String admin) throws CaException {
    if (!store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA)).isEmpty()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "this store already holds a CA; 'keyarc ca info' shows it");
    }
    String adminName;
    try {
      adminName = admin == null ? null : X500Subject.parse(admin).toString();
    } catch (IllegalArgumentException e) {
      throw new CaException(ErrorCode.BAD_SUBJECT, "--admin " + e.getMessage());
    }
    X500Name subject = cfg.subject();
    KeySpec spec = cfg.keyType();
    Instant now = Instant.now();
    HsmSession.GeneratedKeyPair ca = HsmCalls.call(() -> token.call(s -> {
      for (String label : List.of(CaKeyring.CA_KEY_LABEL, CaKeyring.AUDIT_KEY_LABEL)) {
        if (s.findKeyOrNull(KeyClass.PRIVATE, label) != null) {
          throw new HsmException(HsmException.Reason.BAD_INPUT, "init", token.label(), "token " + token.label()
              + " already holds a key labelled '" + label + "' (from an earlier init?); use a fresh token");
        }
      }
      return s.generateKeyPair(spec, KeyPolicy.CA_SIGNING, CaKeyring.CA_KEY_LABEL);
    }));
    HsmSession.GeneratedKeyPair audit = HsmCalls.call(() -> token.call(s ->
        s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.AUDIT_SIGNING, CaKeyring.AUDIT_KEY_LABEL)));
    HsmCalls.call(() -> token.call(s -> {
      if (s.findKeyOrNull(KeyClass.SECRET, CaKeyring.MAC_KEY_LABEL) == null) {
        s.generateSecretKey(KeySpec.AES_256, KeyPolicy.MAC_SECRET, CaKeyring.MAC_KEY_LABEL);
      }
      return null;
    }));
    SubjectPublicKeyInfo caSpki = SubjectPublicKeyInfo.getInstance(ca.publicKey().getEncoded());
    SignatureAlgorithm alg = CaKeyring.algorithmFor(ca.publicKey());
    HsmSigners signers = HsmSigners.iaik(token);
    X509CertificateHolder caCert = null;
    PKCS10CertificationRequest csr = null;
    Instant notAfter = now.atZone(ZoneOffset.UTC).plusYears(cfg.validityYears()).toInstant();
    try {
      if (externalParent) {
        csr = new PKCS10CertificationRequestBuilder(subject, caSpki)
            .build(HsmCalls.call(() -> signers.signer(ca.privateKey(), alg)));
      } else {
        caCert = CertFactory.selfSignedRoot(subject, caSpki, new SerialNumbers().next(), now.minusSeconds(60),
            notAfter, HsmCalls.call(() -> signers.signer(ca.privateKey(), alg)));
        storeOnToken(token, ca.privateKey(), caCert);
      }
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    X509CertificateHolder root = caCert;
    byte[] caDer = root == null ? null : Encodings.der(root);
    store.inTransaction(tx -> {
      tx.caKeys().insert(CaKeyStore.Kind.CA, CaKeyring.CA_KEY_LABEL, now, root == null ? now : notAfter, caDer,
          Encodings.der(caSpki), now);
      tx.caKeys().insert(CaKeyStore.Kind.AUDIT, CaKeyring.AUDIT_KEY_LABEL, now, notAfter, null,
          audit.publicKey().getEncoded(), now);
      Audit.append(tx, "local-operator", AuditAction.CA_INIT, subject.toString(), "key=" + spec + " root="
          + (root != null) + " token=" + token.label() + (adminName == null ? "" : " admin=" + adminName), now);
      return null;
    });
    CaKeyring.pinKeys(store, token);
    // a new CA's audit starts here: forget any anchor an earlier CA left in this token
    HsmCalls.call(() -> {
      token.call(s -> {
        s.writeData(Audit.ANCHOR_LABEL, new byte[0]);
        return null;
      });
      return null;
    });
    X509CertificateHolder exchange = null;
    if (root != null) {
      CaKeyring keys = CaKeyring.load(store, token, archival);
      exchange = newExchange(store, keys, cfg, "local-operator", now);
      newResponder(store, token, keys, cfg, "local-operator", now);
    }
    return new Result(root, csr, exchange, audit.publicKey());
  }

  /** {@link #importCertificate(Store, HsmToken, NodeSettings.Ca, X509CertificateHolder, List)} with no chain. */
  public static X509CertificateHolder importCertificate(Store store, HsmToken token, NodeSettings.Ca cfg,
      X509CertificateHolder cert) throws CaException {
    return importCertificate(store, token, cfg, cert, List.of());
  }

  /**
   * Imports the CA certificate an external parent issued for the CA key, with the parents' chain above it
   * ({@code chain}: the issuer first, the root last; may be empty), then makes the first exchange key. Refused
   * (BAD_INPUT, naming why) unless the certificate is for the CA key, a CA certificate (basicConstraints CA:true,
   * keyCertSign and cRLSign), valid now, and each certificate of the chain signed the one before it, up to a
   * self-signed root.
   */
  public static X509CertificateHolder importCertificate(Store store, HsmToken token, NodeSettings.Ca cfg,
      X509CertificateHolder cert, List<X509CertificateHolder> chain) throws CaException {
    return importCertificate(store, token, token, cfg, cert, chain);
  }

  /** {@link #importCertificate(Store, HsmToken, NodeSettings.Ca, X509CertificateHolder, List)}, exchange keys on
   * {@code archival}. */
  public static X509CertificateHolder importCertificate(Store store, HsmToken token, HsmToken archival,
      NodeSettings.Ca cfg, X509CertificateHolder cert, List<X509CertificateHolder> chain) throws CaException {
    checkParentIssued(cert, chain, Instant.now());
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA));
    if (rows.isEmpty()) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "run 'keyarc ca init --external-parent' first");
    }
    CaKeyStore.Row row = rows.get(0); // the newest key: the first, a rollover's, or the current one renewed
    boolean renewal = row.cert() != null;
    // a rollover's new key under an external parent: the CA's name stays (the issuer of all it signed)
    CaKeyStore.Row previous = rows.stream().filter(r -> r.cert() != null).findFirst().orElse(null);
    if (!renewal && previous != null && !java.util.Arrays.equals(Encodings.der(cert.getSubject()),
        Encodings.der(CaKeyring.holder(previous.cert()).getSubject()))) {
      throw new CaException(ErrorCode.BAD_INPUT, "the certificate for the new CA key names the CA "
          + cert.getSubject() + ", not " + CaKeyring.holder(previous.cert()).getSubject() + ": a rollover keeps "
          + "the CA's name");
    }
    if (renewal && !java.util.Arrays.equals(Encodings.der(cert.getSubject()), Encodings.der(
        CaKeyring.holder(row.cert()).getSubject()))) {
      // the CA's name is the issuer of all it signed: its CRLs, OCSP answers and revocations go by it
      throw new CaException(ErrorCode.BAD_INPUT, "the renewed certificate names the CA " + cert.getSubject()
          + ", not " + CaKeyring.holder(row.cert()).getSubject() + ": a renewal keeps the CA's name");
    }
    if (renewal && !cert.getNotAfter().toInstant().isAfter(row.notAfter())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the CA certificate is already imported, and this one ends no "
          + "later (" + cert.getNotAfter().toInstant() + "): a renewal must outlast it");
    }
    if (!java.util.Arrays.equals(Encodings.der(cert.getSubjectPublicKeyInfo()), row.publicKey())) {
      throw new CaException(ErrorCode.BAD_INPUT, "the certificate is for another key: its public key is not the "
          + "CA key in token " + token.label());
    }
    // and the token's own key under that label, before anything is written: the store's copy may have been edited
    requireTokenKey(token, row.keyLabel(), cert.getSubjectPublicKeyInfo());
    KeyHandle key = HsmCalls.call(() -> token.call(s -> s.findKey(KeyClass.PRIVATE, row.keyLabel())));
    storeOnToken(token, key, cert);
    // the chain's digest in the token: a database writer who swaps the stored chain is found at load
    byte[] chainDigest = CaKeyring.chainDigest(chain);
    HsmCalls.call(() -> token.call(s -> {
      s.writeData(CaKeyring.CHAIN_LABEL, chainDigest);
      return null;
    }));
    Instant now = Instant.now();
    store.inTransaction(tx -> {
      tx.caKeys().setCertificate(row.keyLabel(), Encodings.der(cert), cert.getNotBefore().toInstant(),
          cert.getNotAfter().toInstant());
      List<byte[]> ders = new java.util.ArrayList<>();
      for (X509CertificateHolder c : chain) {
        ders.add(Encodings.der(c));
      }
      tx.caKeys().setChain(ders);
      Audit.append(tx, "local-operator", renewal ? AuditAction.CA_RENEW : AuditAction.CA_IMPORT_CERT,
          cert.getSubject().toString(), "issuer=" + cert.getIssuer() + " serial=" + Digests.hex(cert.getSerialNumber())
          + " chain=" + chain.stream().map(c -> c.getSubject().toString()).toList() + (renewal ? " same key, until "
          + cert.getNotAfter().toInstant() : ""), now);
      return null;
    });
    if (renewal && !store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE)).isEmpty()) {
      return null; // the exchange and responder keys stay; the nodes take the certificate up at their next start
    }
    CaKeyring keys = CaKeyring.load(store, token, archival);
    X509CertificateHolder exchange = newExchange(store, keys, cfg, "local-operator", now);
    newResponder(store, token, keys, cfg, "local-operator", now);
    if (previous != null) { // a rollover's key: its OCSP signer now (the older key keeps its own)
      newOcspSigner(store, token, keys, cfg, "local-operator", now);
    }
    return exchange;
  }

  /**
   * Renews a self-signed CA certificate with the same key (RFC 4210's "root CA key update" keeps the key here):
   * same subject and key, a new serial, valid from now for {@code cfg.validityYears()}; certificates and CRLs the CA
   * signed before verify under either certificate, since name and key are the same. A CA under an external parent
   * renews through the parent instead ({@link #renewalRequest}). Audited; the nodes use the new certificate from
   * their next start.
   */
  public static X509CertificateHolder renew(Store store, HsmToken token, NodeSettings.Ca cfg) throws CaException {
    return renew(store, token, token, cfg);
  }

  /** {@link #renew(Store, HsmToken, NodeSettings.Ca)} for a CA whose exchange keys are on {@code archival}. */
  public static X509CertificateHolder renew(Store store, HsmToken token, HsmToken archival, NodeSettings.Ca cfg)
      throws CaException {
    CaKeyring keys = CaKeyring.load(store, token, archival);
    X509CertificateHolder old = keys.caCert();
    if (!old.getIssuer().equals(old.getSubject())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "this CA's certificate was issued by " + old.getIssuer() + ": "
          + "renew it with that parent ('keyarc ca renew --csr FILE', then 'keyarc ca import-cert')");
    }
    Instant now = Instant.now();
    Instant oldEnd = old.getNotAfter().toInstant();
    Instant notAfter = laterEnd(now, cfg.validityYears(), oldEnd);
    if (!notAfter.isAfter(oldEnd)) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a renewal for " + cfg.validityYears() + " years would end before "
          + "the current certificate (" + old.getNotAfter().toInstant() + "): raise ca.validityYears");
    }
    X509CertificateHolder cert;
    try {
      cert = CertFactory.selfSignedRoot(old.getSubject(), old.getSubjectPublicKeyInfo(), new SerialNumbers().next(),
          now.minusSeconds(60), notAfter, HsmCalls.call(keys::caSigner));
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    storeOnToken(token, keys.caKey(), cert);
    store.inTransaction(tx -> {
      tx.caKeys().setCertificate(keys.current().label(), Encodings.der(cert), cert.getNotBefore().toInstant(),
          notAfter);
      Audit.append(tx, "local-operator", AuditAction.CA_RENEW, cert.getSubject().toString(), "same key, serial "
          + Digests.hex(old.getSerialNumber()) + " -> " + Digests.hex(cert.getSerialNumber()) + ", until " + notAfter,
          now);
      return null;
    });
    return cert;
  }

  /**
   * The end of a CA certificate made at {@code now} for {@code years}, in whole seconds (what certificates carry);
   * one second after {@code oldEnd} when it would fall within a second or two of it (a renewal or rollover in the same
   * second as the certificate it follows still ends later).
   */
  static Instant laterEnd(Instant now, int years, Instant oldEnd) {
    Instant wanted = now.atZone(ZoneOffset.UTC).plusYears(years).toInstant()
        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    return !wanted.isAfter(oldEnd) && wanted.plusSeconds(2).isAfter(oldEnd) ? oldEnd.plusSeconds(1) : wanted;
  }

  /** What a rollover made: the new CA certificate and its cross-certificates (none under an external parent). */
  public record Rollover(int generation, X509CertificateHolder caCert, X509CertificateHolder newWithOld,
      X509CertificateHolder oldWithNew) {}

  /**
   * Rolls a self-signed root over to a new key (RFC 4210 4.4, "root CA key update"): a new CA key in the token
   * ({@code ca.keyType}), its self-signed certificate under the same name for {@code ca.validityYears}, and the two
   * cross-certificates — NewWithOld (the new key certified by the old, so that relying parties still trusting the
   * old certificate reach the new one) and OldWithNew (the reverse, for those that take up only the new one), each
   * valid while the old certificate is. New exchange, CMP responder and OCSP keys are certified by the new key.
   * From the nodes' next start the new key signs what is issued; the old one keeps publishing CRLs and certifying
   * an OCSP signer for what it issued until its certificate ends. A CA under an external parent rolls over with
   * {@link #rolloverRequest}. Audited.
   */
  public static Rollover rollover(Store store, HsmToken token, NodeSettings.Ca cfg) throws CaException {
    return rollover(store, token, token, cfg);
  }

  /** {@link #rollover(Store, HsmToken, NodeSettings.Ca)} with the exchange keys on {@code archival}. */
  public static Rollover rollover(Store store, HsmToken token, HsmToken archival, NodeSettings.Ca cfg)
      throws CaException {
    CaKeyring keys = CaKeyring.load(store, token, archival);
    CaKeyring.Generation old = keys.current();
    if (!old.cert().getIssuer().equals(old.cert().getSubject())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "this CA's certificate was issued by " + old.cert().getIssuer()
          + ": roll over with that parent ('keyarc ca rollover --csr FILE', then 'keyarc ca import-cert')");
    }
    if (pending(store) != null) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a new CA key is waiting for its certificate already");
    }
    Instant now = Instant.now();
    Instant notAfter = laterEnd(now, cfg.validityYears(), old.cert().getNotAfter().toInstant());
    if (!notAfter.isAfter(old.cert().getNotAfter().toInstant())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "a new CA certificate for " + cfg.validityYears() + " years would "
          + "end before the current one (" + old.cert().getNotAfter().toInstant() + "): raise ca.validityYears");
    }
    String label = CaKeyring.CA_KEY_LABEL + "-" + uniqueSuffix(now);
    HsmSession.GeneratedKeyPair pair = HsmCalls.call(() -> token.call(s ->
        s.generateKeyPair(cfg.keyType(), KeyPolicy.CA_SIGNING, label)));
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
    ContentSigner newSigner = HsmCalls.call(() -> HsmSigners.iaik(token).signer(pair.privateKey(),
        CaKeyring.algorithmFor(pair.publicKey())));
    Instant oldEnd = old.cert().getNotAfter().toInstant();
    X509CertificateHolder cert;
    X509CertificateHolder newWithOld;
    X509CertificateHolder oldWithNew;
    try {
      cert = CertFactory.selfSignedRoot(old.cert().getSubject(), spki, new SerialNumbers().next(),
          now.minusSeconds(60), notAfter, newSigner);
      newWithOld = CertFactory.crossCertificate(old.cert(), spki, new SerialNumbers().next(), now.minusSeconds(60),
          oldEnd, HsmCalls.call(() -> keys.signer(old)));
      oldWithNew = CertFactory.crossCertificate(cert, old.cert().getSubjectPublicKeyInfo(),
          new SerialNumbers().next(), old.cert().getNotBefore().toInstant(), oldEnd, HsmCalls.call(() -> HsmSigners.iaik(token)
              .signer(pair.privateKey(), CaKeyring.algorithmFor(pair.publicKey()))));
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    storeOnToken(token, pair.privateKey(), cert);
    int generation = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA)).size(); // the next number
    store.inTransaction(tx -> {
      tx.caKeys().insert(CaKeyStore.Kind.CA, label, cert.getNotBefore().toInstant(), notAfter, Encodings.der(cert),
          Encodings.der(spki), now);
      tx.caKeys().insert(CaKeyStore.Kind.CROSS, "cross-new-with-old-" + label, now.minusSeconds(60), oldEnd,
          Encodings.der(newWithOld), Encodings.der(spki), now);
      tx.caKeys().insert(CaKeyStore.Kind.CROSS, "cross-old-with-new-" + label, now.minusSeconds(60), oldEnd,
          Encodings.der(oldWithNew), Encodings.der(old.cert().getSubjectPublicKeyInfo()), now);
      Audit.append(tx, "local-operator", AuditAction.CA_ROLLOVER, cert.getSubject().toString(), "new key " + label
          + " (CA key " + generation + "), serial " + Digests.hex(cert.getSerialNumber()) + " until " + notAfter
          + "; " + old + " answers for what it issued until " + oldEnd, now);
      return null;
    });
    CaKeyring.pinKeys(store, token);
    afterRollover(store, token, archival, cfg, now);
    return new Rollover(generation, cert, newWithOld, oldWithNew);
  }

  /** The new CA key's exchange, CMP responder and OCSP signing keys, certified by it. */
  private static void afterRollover(Store store, HsmToken token, HsmToken archival, NodeSettings.Ca cfg,
      Instant now) throws CaException {
    CaKeyring keys = CaKeyring.load(store, token, archival);
    newExchange(store, keys, cfg, "local-operator", now);
    newResponder(store, token, keys, cfg, "local-operator", now);
    newOcspSigner(store, token, keys, cfg, "local-operator", now);
  }

  /** Refuses (STORE_ERROR) unless the token's private key {@code label} belongs to {@code spki}. */
  private static void requireTokenKey(HsmToken token, String label, SubjectPublicKeyInfo spki) throws CaException {
    PublicKey pub = CaKeyring.publicKey(spki);
    boolean matches = HsmCalls.call(() -> token.call(s -> s.matchesPublicKey(s.findKey(KeyClass.PRIVATE, label),
        pub)));
    if (!matches) {
      throw new CaException(ErrorCode.STORE_ERROR, "the store's public key for CA key " + label + " is not the key "
          + "the CA token holds under that label: the store was edited; restore it from a backup");
    }
  }

  /** The CA key row still waiting for its certificate from an external parent, or null. */
  private static CaKeyStore.Row pending(Store store) throws CaException {
    return store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA)).stream().filter(r -> r.cert() == null)
        .findFirst().orElse(null);
  }

  /**
   * A rollover under an external parent: a new CA key in the token and a PKCS#10 for it under the CA's name, for the
   * parent to certify; {@link #importCertificate} then makes it the current key. Asked again before the import, the
   * same waiting key is used (no second key). Audited.
   */
  public static PKCS10CertificationRequest rolloverRequest(Store store, HsmToken token, NodeSettings.Ca cfg)
      throws CaException {
    return rolloverRequest(store, token, token, cfg);
  }

  /** {@link #rolloverRequest(Store, HsmToken, NodeSettings.Ca)} for a CA whose exchange keys are on
   * {@code archival}. */
  public static PKCS10CertificationRequest rolloverRequest(Store store, HsmToken token, HsmToken archival,
      NodeSettings.Ca cfg) throws CaException {
    CaKeyring keys = CaKeyring.load(store, token, archival);
    if (keys.caCert().getIssuer().equals(keys.caCert().getSubject())) {
      throw new CaException(ErrorCode.BAD_REQUEST, "this CA is a self-signed root: roll it over with 'keyarc ca "
          + "rollover' (no --csr)");
    }
    CaKeyStore.Row waiting = pending(store);
    Instant now = Instant.now();
    String label;
    SubjectPublicKeyInfo spki;
    if (waiting != null) {
      label = waiting.keyLabel();
      spki = SubjectPublicKeyInfo.getInstance(waiting.publicKey());
      requireTokenKey(token, label, spki); // the store's public key for it must be the token's
    } else {
      label = CaKeyring.CA_KEY_LABEL + "-" + uniqueSuffix(now);
      HsmSession.GeneratedKeyPair pair = HsmCalls.call(() -> token.call(s ->
          s.generateKeyPair(cfg.keyType(), KeyPolicy.CA_SIGNING, label)));
      spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
      store.inTransaction(tx -> {
        tx.caKeys().insert(CaKeyStore.Kind.CA, label, now, now, null, Encodings.der(spki), now);
        Audit.append(tx, "local-operator", AuditAction.CA_ROLLOVER, keys.caName().toString(), "new key " + label
            + " waiting for its certificate from " + keys.caCert().getIssuer(), now);
        return null;
      });
      CaKeyring.pinKeys(store, token);
    }
    KeyHandle key = HsmCalls.call(() -> token.call(s -> s.findKey(KeyClass.PRIVATE, label)));
    try {
      return new PKCS10CertificationRequestBuilder(keys.caName(), spki).build(HsmCalls.call(() ->
          HsmSigners.iaik(token).signer(key, CaKeyring.algorithmFor(CaKeyring.publicKey(spki)))));
    } catch (RuntimeException e) {
      throw new CaException(ErrorCode.HSM_ERROR, "cannot sign the rollover request: " + e.getMessage(), e);
    }
  }

  /** A PKCS#10 for the CA's own key and name, for an external parent to renew its certificate (same key). */
  public static PKCS10CertificationRequest renewalRequest(Store store, HsmToken token) throws CaException {
    return renewalRequest(store, token, token);
  }

  /** {@link #renewalRequest(Store, HsmToken)} for a CA whose exchange keys are on {@code archival}. */
  public static PKCS10CertificationRequest renewalRequest(Store store, HsmToken token, HsmToken archival)
      throws CaException {
    CaKeyring keys = CaKeyring.load(store, token, archival);
    try {
      return new PKCS10CertificationRequestBuilder(keys.caCert().getSubject(), keys.caCert().getSubjectPublicKeyInfo())
          .build(HsmCalls.call(keys::caSigner));
    } catch (RuntimeException e) {
      throw new CaException(ErrorCode.HSM_ERROR, "cannot sign the renewal request: " + e.getMessage(), e);
    }
  }

  /** Why {@code cert} (with {@code chain} above it) cannot be this CA's certificate: BAD_INPUT naming it. */
  public static void checkParentIssued(X509CertificateHolder cert, List<X509CertificateHolder> chain, Instant now)
      throws CaException {
    org.bouncycastle.asn1.x509.BasicConstraints bc = org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(
        cert.getExtensions());
    if (bc == null || !bc.isCA()) {
      throw new CaException(ErrorCode.BAD_INPUT, "the certificate is not a CA certificate (no basicConstraints "
          + "CA:true): the parent must issue it from its subordinate-CA profile");
    }
    org.bouncycastle.asn1.x509.KeyUsage ku = org.bouncycastle.asn1.x509.KeyUsage.fromExtensions(cert.getExtensions());
    if (ku != null && !ku.hasUsages(org.bouncycastle.asn1.x509.KeyUsage.keyCertSign
        | org.bouncycastle.asn1.x509.KeyUsage.cRLSign)) {
      throw new CaException(ErrorCode.BAD_INPUT, "the certificate's key usage lacks keyCertSign or cRLSign: this CA "
          + "could not sign certificates and CRLs with it");
    }
    if (!cert.isValidOn(java.util.Date.from(now))) {
      throw new CaException(ErrorCode.BAD_INPUT, "the certificate is not valid now (" + cert.getNotBefore().toInstant()
          + " to " + cert.getNotAfter().toInstant() + ")");
    }
    X509CertificateHolder below = cert;
    for (X509CertificateHolder parent : chain) {
      if (!below.getIssuer().equals(parent.getSubject()) || !signedBy(below, parent)) {
        throw new CaException(ErrorCode.BAD_INPUT, "the chain is broken: " + below.getSubject() + " is not signed by "
            + parent.getSubject() + " (give the chain issuer first, root last)");
      }
      org.bouncycastle.asn1.x509.BasicConstraints pbc = org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(
          parent.getExtensions());
      if (pbc == null || !pbc.isCA()) {
        throw new CaException(ErrorCode.BAD_INPUT, "the chain holds " + parent.getSubject() + ", which is not a CA");
      }
      below = parent;
    }
    if (!chain.isEmpty() && !(below.getIssuer().equals(below.getSubject()) && signedBy(below, below))) {
      throw new CaException(ErrorCode.BAD_INPUT, "the chain ends at " + below.getSubject() + ", which is not a "
          + "self-signed root: give the whole chain up to the root");
    }
  }

  private static boolean signedBy(X509CertificateHolder cert, X509CertificateHolder issuer) {
    try {
      return cert.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
          .build(issuer));
    } catch (org.bouncycastle.cert.CertException | org.bouncycastle.operator.OperatorCreationException
        | java.security.cert.CertificateException | RuntimeException e) {
      return false;
    }
  }

  /**
   * A new exchange key pair inside the token (sensitive, non-extractable, unwrap only) and its short-lived
   * certificate signed by the CA (keyEncipherment, EKU Private Key Archival), recorded and audited.
   */
  public static X509CertificateHolder newExchange(Store store, CaKeyring keys, NodeSettings.Ca cfg,
      String actor, Instant now) throws CaException {
    return newExchange(store, keys, cfg, actor, now, false);
  }

  /**
   * {@link #newExchange(Store, CaKeyring, NodeSettings.Ca, String, Instant)}; with {@code decrypting}
   * (only while {@code archival.allowSoftwareUnwrap} is on) the key may also decrypt, which the audit record says.
   */
  public static X509CertificateHolder newExchange(Store store, CaKeyring keys, NodeSettings.Ca cfg,
      String actor, Instant now, boolean decrypting) throws CaException {
    HsmToken token = keys.exchangeToken(); // the CA token, or hsm.archivalToken
    KeySpec spec = cfg.exchangeKeyType();
    String label = CaKeyring.EXCHANGE_LABEL_PREFIX + uniqueSuffix(now);
    KeyPolicy policy = decrypting ? KeyPolicy.EXCHANGE_SOFTWARE_UNWRAP : KeyPolicy.EXCHANGE;
    HsmSession.GeneratedKeyPair pair = HsmCalls.call(() -> token.call(s ->
        s.generateKeyPair(spec, policy, label)));
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
    // which RSA-OAEP the token unwraps with this key, tried: clients read it from the certificate (OaepCapabilities)
    boolean sha256 = unwrapsOaepSha256(token, pair);
    X509CertificateHolder cert = serviceCertificate(keys, keys.current(), spki, now, cfg.exchangeValidity(), "Exchange",
        KeyUsage.keyEncipherment, KeyPurposeId.getInstance(Template.EKU_PRIVATE_KEY_ARCHIVAL), false,
        org.keyarc.protocol.OaepCapabilities.of(sha256));
    Instant end = cert.getNotAfter().toInstant();
    BigInteger serial = cert.getSerialNumber();
    store.inTransaction(tx -> {
      tx.caKeys().insert(CaKeyStore.Kind.EXCHANGE, label, now, end, Encodings.der(cert), Encodings.der(spki), now);
      Audit.append(tx, actor, AuditAction.CA_EXCHANGE, label, "serial=" + Digests.hex(serial) + " notAfter=" + end
          + (decrypting ? " decrypt=true (archival.allowSoftwareUnwrap)" : " unwrap-only") + " oaep="
          + (sha256 ? "SHA-256,SHA-1" : "SHA-1"), now);
      return null;
    });
    return cert;
  }

  /**
   * True when the token unwraps with the new exchange key under RSA-OAEP SHA-256: a random AES key encrypted to its
   * public key here, unwrapped there as a session object and destroyed.
   */
  private static boolean unwrapsOaepSha256(HsmToken token, HsmSession.GeneratedKeyPair pair) {
    byte[] aes = new byte[32];
    new java.security.SecureRandom().nextBytes(aes);
    try {
      byte[] wrapped = HsmSession.softwareOaep(pair.publicKey(), org.keyarc.hsm.OaepHash.SHA256, aes);
      return token.call(s -> {
        org.keyarc.hsm.KeyHandle k = s.unwrapOaep(pair.privateKey(), wrapped, org.keyarc.hsm.OaepHash.SHA256,
            KeyPolicy.SESSION_UNWRAPPING, null);
        s.destroy(k);
        return true;
      });
    } catch (org.keyarc.hsm.HsmException e) {
      return false; // SoftHSM2: OAEP with SHA-1 only
    } finally {
      java.util.Arrays.fill(aes, (byte) 0);
    }
  }

  /**
   * A short-lived certificate the CA key signs for one of the CA's own service keys (exchange, CMP responder):
   * not a CA, the given key usage and extended key usage, at most as long as the CA certificate, subject the CA's
   * name plus {@code OU=<ou> <time>}.
   */
  private static X509CertificateHolder serviceCertificate(CaKeyring keys, CaKeyring.Generation by,
      SubjectPublicKeyInfo spki, Instant now, java.time.Duration validity, String ou, int keyUsage, KeyPurposeId eku)
      throws CaException {
    return serviceCertificate(keys, by, spki, now, validity, ou, keyUsage, eku, false);
  }

  private static X509CertificateHolder serviceCertificate(CaKeyring keys, CaKeyring.Generation by,
      SubjectPublicKeyInfo spki, Instant now, java.time.Duration validity, String ou, int keyUsage, KeyPurposeId eku,
      boolean ocspNoCheck) throws CaException {
    return serviceCertificate(keys, by, spki, now, validity, ou, keyUsage, eku, ocspNoCheck, null);
  }

  /** {@code smime} non-null: the sMIMECapabilities extension (the exchange key's RSA-OAEP). */
  private static X509CertificateHolder serviceCertificate(CaKeyring keys, CaKeyring.Generation by,
      SubjectPublicKeyInfo spki, Instant now, java.time.Duration validity, String ou, int keyUsage, KeyPurposeId eku,
      boolean ocspNoCheck, org.bouncycastle.asn1.smime.SMIMECapabilities smime) throws CaException {
    X509CertificateHolder ca = by.cert();
    Instant notAfter = now.plus(validity);
    if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
      notAfter = ca.getNotAfter().toInstant();
    }
    X500Name subject = new X500Name(ca.getSubject() + ", OU=" + ou + " " + now.getEpochSecond());
    try {
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(ca.getSubject(), new SerialNumbers().next(),
          Date.from(now.minusSeconds(60)), Date.from(notAfter), subject, spki);
      b.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
          new org.bouncycastle.asn1.x509.BasicConstraints(false));
      b.addExtension(org.bouncycastle.asn1.x509.Extension.keyUsage, true, new KeyUsage(keyUsage));
      b.addExtension(org.bouncycastle.asn1.x509.Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
      b.addExtension(org.bouncycastle.asn1.x509.Extension.subjectKeyIdentifier, false,
          EXT.createSubjectKeyIdentifier(spki));
      b.addExtension(org.bouncycastle.asn1.x509.Extension.authorityKeyIdentifier, false,
          CertFactory.authorityKeyId(ca));
      if (smime != null) {
        b.addExtension(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities, false, smime);
      }
      if (ocspNoCheck) { // relying parties need not check the OCSP signer's own status (RFC 6960 4.2.2.2.1)
        b.addExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false,
            org.bouncycastle.asn1.DERNull.INSTANCE);
      }
      return b.build(HsmCalls.call(() -> keys.signer(by)));
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A key label suffix: the time and 4 random bytes, so that two keys made in the same second (a node restarted at
   * once, or an old key left on the token when its store row was lost) never share a label.
   */
  static String uniqueSuffix(Instant now) {
    byte[] r = new byte[4];
    new java.security.SecureRandom().nextBytes(r);
    return now.getEpochSecond() + "-" + java.util.HexFormat.of().formatHex(r);
  }

  /**
   * A new CMP responder key pair inside the token (sensitive, non-extractable, sign only: the CA key's policy)
   * and its short-lived certificate signed by the CA (digitalSignature, EKU id-kp-cmcCA), recorded and
   * audited. It signs the node's CMP answers, so that the CA key signs only certificates and CRLs.
   */
  public static X509CertificateHolder newResponder(Store store, HsmToken token, CaKeyring keys,
      NodeSettings.Ca cfg, String actor, Instant now) throws CaException {
    return newServiceKey(store, token, keys, keys.current(), cfg, actor, now, CaKeyStore.Kind.RESPONDER,
        CaKeyring.RESPONDER_LABEL_PREFIX, "CMP Responder", ResponderCertificate.EKU, false, AuditAction.CA_RESPONDER);
  }

  /**
   * A new delegated OCSP signing key in the CA token and its certificate (EKU id-kp-OCSPSigning, ocsp-nocheck),
   * with the CMP responder key's type and life ({@code ca.responderKeyType}, {@code responderValidityDays}).
   */
  public static X509CertificateHolder newOcspSigner(Store store, HsmToken token, CaKeyring keys,
      NodeSettings.Ca cfg, String actor, Instant now) throws CaException {
    return newOcspSigner(store, token, keys, keys.current(), cfg, actor, now);
  }

  /**
   * {@link #newOcspSigner(Store, HsmToken, CaKeyring, NodeSettings.Ca, String, Instant)} certified by the CA key
   * {@code by}: it answers for what that key issued (RFC 6960 4.2.2.2), an older key's until its certificate ends.
   */
  public static X509CertificateHolder newOcspSigner(Store store, HsmToken token, CaKeyring keys,
      CaKeyring.Generation by, NodeSettings.Ca cfg, String actor, Instant now) throws CaException {
    return newServiceKey(store, token, keys, by, cfg, actor, now, CaKeyStore.Kind.OCSP, CaKeyring.OCSP_LABEL_PREFIX,
        "OCSP Responder", KeyPurposeId.id_kp_OCSPSigning, true, AuditAction.CA_OCSP_SIGNER);
  }

  /** A signing key of the CA's own services in the token, its certificate, its store row and audit record. */
  private static X509CertificateHolder newServiceKey(Store store, HsmToken token, CaKeyring keys,
      CaKeyring.Generation by, NodeSettings.Ca cfg, String actor, Instant now, CaKeyStore.Kind kind, String prefix,
      String ou,
      KeyPurposeId eku, boolean ocspNoCheck, AuditAction action) throws CaException {
    KeySpec spec = cfg.responderKeyType();
    String label = prefix + uniqueSuffix(now);
    HsmSession.GeneratedKeyPair pair = HsmCalls.call(() -> token.call(s ->
        s.generateKeyPair(spec, KeyPolicy.CA_SIGNING, label)));
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
    X509CertificateHolder cert = serviceCertificate(keys, by, spki, now, cfg.responderValidity(), ou,
        KeyUsage.digitalSignature, eku, ocspNoCheck);
    Instant end = cert.getNotAfter().toInstant();
    BigInteger serial = cert.getSerialNumber();
    store.inTransaction(tx -> {
      tx.caKeys().insert(kind, label, now, end, Encodings.der(cert), Encodings.der(spki), now);
      Audit.append(tx, actor, action, label, "serial=" + Digests.hex(serial) + " notAfter=" + end
          + (by.number() == 0 ? "" : " caKey=" + by.number()), now);
      return null;
    });
    return cert;
  }

  private static void storeOnToken(HsmToken token, KeyHandle key, X509CertificateHolder cert) throws CaException {
    try {
      java.security.cert.X509Certificate x = new JcaX509CertificateConverter().getCertificate(cert);
      HsmCalls.call(() -> token.call(s -> {
        s.storeCertificate(key, x);
        return null;
      }));
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads a certificate file (PEM or DER). */
  public static X509CertificateHolder readCertificate(byte[] data) throws IOException {
    String text = new String(data, java.nio.charset.StandardCharsets.US_ASCII);
    if (text.contains("-----BEGIN")) {
      try (org.bouncycastle.openssl.PEMParser p = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(text))) {
        Object o = p.readObject();
        if (o instanceof X509CertificateHolder h) {
          return h;
        }
        throw new IOException("the PEM file holds no certificate");
      }
    }
    return new X509CertificateHolder(data);
  }
}
