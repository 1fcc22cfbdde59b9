package org.keyarc.ca.keys;

import java.io.IOException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Store;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmSigners;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.ErrorCode;

/**
 * The CA's keys as the node uses them: handles into the CA token (never key bytes) plus the matching
 * certificates from the store. Built by {@link #load} after {@code keyarc ca init}.
 *
 * <p>The CA key has generations: the first is 0, and each {@code keyarc ca rollover} adds one with a new key under
 * the same name. The newest signs what is issued from then on ({@link #current}); every older one whose certificate
 * has not ended still signs the CRLs and certifies the OCSP signer for what it issued ({@link #live}).
 */
public final class CaKeyring {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CaKeyring.class);
  public static final String CA_KEY_LABEL = "ca-signing";
  public static final String AUDIT_KEY_LABEL = "audit-signing";
  public static final String MAC_KEY_LABEL = "secret-mac";
  public static final String EXCHANGE_LABEL_PREFIX = "ca-exchange-";
  public static final String RESPONDER_LABEL_PREFIX = "cmp-responder-";
  /** Labels of the delegated OCSP signing keys (RFC 6960 4.2.2.2): the CA key signs no OCSP answer. */
  public static final String OCSP_LABEL_PREFIX = "ocsp-signing-";

  /** An exchange key and its certificate. */
  public record Exchange(String label, KeyHandle key, X509CertificateHolder cert) {}

  /**
   * A CMP responder or OCSP signing key, its certificate, the algorithm it signs with, and the generation of the CA
   * key that certified it.
   */
  public record Responder(String label, KeyHandle key, X509CertificateHolder cert, SignatureAlgorithm algorithm,
      int generation) {}

  /** One generation of the CA key: its number (0 the first), token label, handle, certificate and algorithm. */
  public record Generation(int number, String label, KeyHandle key, X509CertificateHolder cert,
      SignatureAlgorithm algorithm) {
    /** Whether the certificate has not ended at {@code t}: the key still answers for what it issued. */
    public boolean liveAt(Instant t) {
      return t.isBefore(cert.getNotAfter().toInstant());
    }

    @Override
    public String toString() {
      return "CA key " + number + " (" + label + ")";
    }
  }

  private final HsmToken token;
  /** Where the exchange keys are and archived keys are unwrapped: the CA token, or hsm.archivalToken. */
  private final HsmToken exchangeToken;
  private final HsmSigners signers;
  private final List<Generation> generations;
  private final Generation current;
  private final List<X509CertificateHolder> crossCerts;
  private final KeyHandle auditKey;
  private final PublicKey auditPublicKey;
  private final KeyHandle macKey;
  private volatile List<Exchange> exchanges;
  private volatile List<Responder> responders = List.of();
  private volatile List<Responder> ocspSigners = List.of();

  private List<X509CertificateHolder> chain = List.of();

  private CaKeyring(HsmToken token, HsmToken exchangeToken, List<Generation> generations,
      List<X509CertificateHolder> crossCerts, KeyHandle auditKey, PublicKey auditPublicKey, KeyHandle macKey,
      List<Exchange> exchanges) {
    this.token = token;
    this.exchangeToken = exchangeToken;
    this.signers = HsmSigners.iaik(token);
    this.generations = List.copyOf(generations);
    this.current = generations.get(generations.size() - 1);
    this.crossCerts = List.copyOf(crossCerts);
    this.auditKey = auditKey;
    this.auditPublicKey = auditPublicKey;
    this.macKey = macKey;
    this.exchanges = exchanges;
  }

  /** Finds every CA key in the token and every certificate in the store; the exchange keys are on the CA token. */
  public static CaKeyring load(Store store, HsmToken token) throws CaException {
    return load(store, token, token);
  }

  /**
   * Finds every CA key in {@code token}, the exchange keys in {@code exchangeToken} (a separate archival token or
   * partition, or the CA token again) and every certificate in the store.
   */
  public static CaKeyring load(Store store, HsmToken token, HsmToken exchangeToken) throws CaException {
    try {
      return loadKeys(store, token, exchangeToken);
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the " + (e.tokenLabel() != null && exchangeToken != token
          && e.tokenLabel().equals(exchangeToken.label()) ? "archival" : "CA") + " token lacks a key the store names: "
          + e.getMessage(), e);
    }
  }

  private static CaKeyring loadKeys(Store store, HsmToken token, HsmToken exchangeToken) throws CaException,
      HsmException {
    List<CaKeyStore.Row> ca = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA));
    List<CaKeyStore.Row> audit = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT));
    if (ca.isEmpty() || audit.isEmpty()) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "the CA is not initialised in this store; run "
          + "'keyarc ca init' first");
    }
    List<Generation> generations = generations(token, ca);
    if (generations.isEmpty()) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "the CA certificate has not been imported yet; run "
          + "'keyarc ca import-cert --cert FILE' with the certificate the parent CA issued");
    }
    List<X509CertificateHolder> cross = new ArrayList<>();
    for (CaKeyStore.Row r : store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CROSS))) {
      X509CertificateHolder c = holder(r.cert());
      // a cross-certificate must be signed by one of the CA's own keys: a store edit cannot add one
      if (generations.stream().anyMatch(g -> signedBy(c, g.cert().getSubjectPublicKeyInfo()))) {
        cross.add(c);
      }
    }
    KeyHandle auditKey = token.call(s -> s.findKey(KeyClass.PRIVATE, audit.get(0).keyLabel()));
    KeyHandle macKey = token.call(s -> s.findKey(KeyClass.SECRET, MAC_KEY_LABEL));
    PublicKey auditPublic = publicKey(SubjectPublicKeyInfo.getInstance(audit.get(0).publicKey()));
    CaKeyring k = new CaKeyring(token, exchangeToken, generations, cross, auditKey, auditPublic, macKey, List.of());
    List<X509CertificateHolder> chain = new java.util.ArrayList<>();
    for (byte[] der : store.inTransaction(tx -> tx.caKeys().chain())) {
      chain.add(holder(der));
    }
    // only the chain imported at the CA host: its digest is in the token, which a database writer cannot change
    List<byte[]> remembered = token.call(s -> s.readData(CHAIN_LABEL));
    boolean known = remembered.stream().anyMatch(d -> java.util.Arrays.equals(d, chainDigest(chain)));
    if (!known && !chain.isEmpty()) {
      org.slf4j.LoggerFactory.getLogger(CaKeyring.class).error("the CA chain in the store is not the one imported "
          + "at the CA host (the store was edited): it is not served; run 'keyarc ca import-cert --chain' again");
      chain.clear();
    }
    k.chain = List.copyOf(chain);
    k.reloadExchanges(store);
    k.reloadResponders(store);
    return k;
  }

  /**
   * The CA key's generations, oldest first: the CA rows in the order they were made (a row still waiting for its
   * certificate from an external parent keeps its number but is left out). Each certificate must be for the key the
   * token holds under its label, so that a store edit cannot put another key's certificate in the CA's place.
   */
  private static List<Generation> generations(HsmToken token, List<CaKeyStore.Row> rowsNewestFirst)
      throws CaException, HsmException {
    List<CaKeyStore.Row> rows = new ArrayList<>(rowsNewestFirst);
    java.util.Collections.reverse(rows);
    // the CA keys' labels and public keys, in order, as the ceremonies at the CA host left them (their digest is in
    // the token): rows added, removed or reordered in the store would renumber the keys or make an old one sign
    List<byte[]> pinned = token.call(s -> s.readData(KEYS_LABEL));
    byte[] digest = keysDigest(rows);
    boolean known = pinned.isEmpty() ? rows.size() == 1 // a CA from before the pin: one key, nothing to reorder
        : pinned.stream().anyMatch(d -> java.util.Arrays.equals(d, digest));
    if (!known) {
      throw new CaException(ErrorCode.STORE_ERROR, "the store's list of CA keys is not the one the CA token "
          + "remembers (a key row was added, removed or reordered): the store was edited; restore it from a backup");
    }
    List<Generation> out = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      CaKeyStore.Row r = rows.get(i);
      if (r.cert() == null) {
        continue;
      }
      X509CertificateHolder cert = holder(r.cert());
      PublicKey pub = publicKey(cert.getSubjectPublicKeyInfo());
      KeyHandle key = token.call(s -> s.findKey(KeyClass.PRIVATE, r.keyLabel()));
      if (!token.call(s -> s.matchesPublicKey(key, pub))
          || !java.util.Arrays.equals(r.publicKey(), org.keyarc.ca.support.Encodings.der(cert.getSubjectPublicKeyInfo()))
          || (cert.getIssuer().equals(cert.getSubject()) && !signedBy(cert, cert.getSubjectPublicKeyInfo()))) {
        throw new CaException(ErrorCode.STORE_ERROR, "the store's certificate for CA key " + r.keyLabel() + " is "
            + "not for the key the CA token holds under that label (or a root not signed by it): the store was "
            + "edited; restore it from a backup");
      }
      out.add(new Generation(i, r.keyLabel(), key, cert, algorithmFor(pub)));
    }
    return out;
  }

  /** The label of the token data object holding {@link #keysDigest} of the CA key rows. */
  public static final String KEYS_LABEL = "keyarc-ca-keys";

  /** SHA-256 over the CA key rows' labels and public keys, oldest first, each length-prefixed. */
  static byte[] keysDigest(List<CaKeyStore.Row> rowsOldestFirst) {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      for (CaKeyStore.Row r : rowsOldestFirst) {
        for (byte[] part : List.of(r.keyLabel().getBytes(java.nio.charset.StandardCharsets.UTF_8), r.publicKey())) {
          md.update(java.nio.ByteBuffer.allocate(4).putInt(part.length).array());
          md.update(part);
        }
      }
      return md.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes the digest of the store's CA key rows into the CA token: after a ceremony at the CA host added one (init,
   * a rollover), so that {@link #load} takes up exactly these keys in this order.
   */
  public static void pinKeys(Store store, HsmToken token) throws CaException {
    List<CaKeyStore.Row> rows = new ArrayList<>(store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA)));
    java.util.Collections.reverse(rows);
    byte[] digest = keysDigest(rows);
    try {
      token.call(s -> {
        s.writeData(KEYS_LABEL, digest);
        return null;
      });
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "cannot record the CA keys in the CA token: " + e.getMessage()
          + "; 'keyarc ca info' shows the state", e);
    }
  }

  /** Whether {@code cert}'s signature verifies with {@code issuerKey}. */
  static boolean signedBy(X509CertificateHolder cert, SubjectPublicKeyInfo issuerKey) {
    try {
      return cert.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
          .setProvider(org.keyarc.protocol.Bc.PROVIDER).build(publicKey(issuerKey)));
    } catch (org.bouncycastle.cert.CertException | org.bouncycastle.operator.OperatorCreationException
        | RuntimeException e) {
      return false;
    }
  }

  /** Re-reads the exchange keys (after a renewal). */
  public void reloadExchanges(Store store) throws CaException, HsmException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE));
    List<Exchange> out = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      if (r.retiredAt() != null) {
        // destroyed in the HSM after its grace period (destroy first, then the row): a key still there means the row
        // was marked retired by hand or by a store edit; it is not used (archivals go to the others), and said
        try {
          if (exchangeToken.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, r.keyLabel())) != null) {
            LOG.error("exchange key {} is marked retired in the store but its key is still in token {}: it is not "
                + "used (if the store was edited, restore it from a backup)", r.keyLabel(), exchangeToken.label());
          }
        } catch (HsmException e) { // a check for the log only: it never stops the reload
          LOG.warn("cannot check whether retired exchange key {} is gone from the token: {}", r.keyLabel(),
              e.getMessage());
        }
        continue;
      }
      X509CertificateHolder cert = holder(r.cert());
      KeyHandle h = serviceKey(exchangeToken, r, cert, EXCHANGE_LABEL_PREFIX, org.bouncycastle.asn1.x509.KeyPurposeId
          .getInstance(org.keyarc.ca.template.Template.EKU_PRIVATE_KEY_ARCHIVAL));
      if (h != null) {
        out.add(new Exchange(r.keyLabel(), h, cert));
      }
    }
    exchanges = List.copyOf(out);
  }

  /** Re-reads the CMP responder and OCSP signing keys (after a renewal, here or by another node on the same store). */
  public void reloadResponders(Store store) throws CaException, HsmException {
    responders = load(store, CaKeyStore.Kind.RESPONDER, RESPONDER_LABEL_PREFIX,
        org.keyarc.protocol.cmp.ResponderCertificate.EKU);
    ocspSigners = load(store, CaKeyStore.Kind.OCSP, OCSP_LABEL_PREFIX,
        org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_OCSPSigning);
  }

  private List<Responder> load(Store store, CaKeyStore.Kind kind, String prefix,
      org.bouncycastle.asn1.x509.KeyPurposeId eku) throws CaException, HsmException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(kind));
    List<Responder> out = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      X509CertificateHolder cert = holder(r.cert());
      KeyHandle h = serviceKey(token, r, cert, prefix, eku);
      if (h != null) {
        out.add(new Responder(r.keyLabel(), h, cert, algorithmFor(publicKey(cert.getSubjectPublicKeyInfo())),
            issuerOf(cert).orElseThrow().number()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * The token's key for a store row naming one of the node's own service keys (exchange, CMP responder, OCSP), or
   * null when the row cannot be one: its label lacks the kind's prefix (so it cannot name a CA, audit or MAC key), its
   * certificate is not one a CA key of ours signed for that purpose (the EKU, not a CA certificate), or the token's
   * key under the label is not the certificate's. Such a row is a store edit: it is never used, and never destroyed
   * at retirement ({@link ExchangeService#retireExpired}), and the log says so.
   */
  private KeyHandle serviceKey(HsmToken on, CaKeyStore.Row r, X509CertificateHolder cert, String prefix,
      org.bouncycastle.asn1.x509.KeyPurposeId eku) throws CaException, HsmException {
    String why = null;
    org.bouncycastle.asn1.x509.BasicConstraints bc = org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(
        cert.getExtensions());
    org.bouncycastle.asn1.x509.ExtendedKeyUsage ekus = org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(
        cert.getExtensions());
    KeyHandle h = null;
    if (!r.keyLabel().startsWith(prefix)) {
      why = "its label does not start with " + prefix;
    } else if (issuerOf(cert).isEmpty()) {
      why = "its certificate was not signed by a CA key of this CA";
    } else if ((bc != null && bc.isCA()) || ekus == null || !ekus.hasKeyPurposeId(eku)) {
      why = "its certificate is not one for this purpose (a CA certificate, or without EKU " + eku.getId() + ")";
    } else {
      h = on.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, r.keyLabel()));
      KeyHandle found = h;
      if (found == null) {
        why = "token " + on.label() + " holds no private key under that label";
      } else if (!on.call(s -> s.matchesPublicKey(found, publicKey(cert.getSubjectPublicKeyInfo())))) {
        why = "the key token " + on.label() + " holds under that label is not its certificate's";
      }
    }
    if (why != null) {
      LOG.error("the store's row for key {} is not used: {} (the store was edited; restore it from a backup)",
          r.keyLabel(), why);
      return null;
    }
    return h;
  }

  /** The signature algorithm for a CA public key: SHA-256 RSA, or ECDSA with the curve's hash. */
  public static SignatureAlgorithm algorithmFor(PublicKey key) {
    if (key instanceof ECPublicKey ec) {
      return ec.getParams().getCurve().getField().getFieldSize() > 256
          ? SignatureAlgorithm.SHA384_WITH_ECDSA : SignatureAlgorithm.SHA256_WITH_ECDSA;
    }
    return SignatureAlgorithm.SHA256_WITH_RSA;
  }

  public static PublicKey publicKey(SubjectPublicKeyInfo spki) {
    return org.keyarc.ca.support.PublicKeys.publicKey(spki);
  }

  static X509CertificateHolder holder(byte[] der) {
    try {
      return new X509CertificateHolder(der);
    } catch (IOException e) {
      throw new IllegalStateException("the store holds an unreadable CA certificate", e);
    }
  }

  /** A fresh BC ContentSigner over the current CA key (one per certificate or CRL). */
  public ContentSigner caSigner() throws HsmException {
    return signer(current);
  }

  /** A fresh BC ContentSigner over the CA key of generation {@code g}. */
  public ContentSigner signer(Generation g) throws HsmException {
    return signers.signer(g.key(), g.algorithm());
  }

  /** The CA key that signs from now on: the newest generation. */
  public Generation current() {
    return current;
  }

  /** Every generation of the CA key with a certificate, oldest first. */
  public List<Generation> generations() {
    return generations;
  }

  /** The generations whose certificates have not ended at {@code now}, oldest first. */
  public List<Generation> live(Instant now) {
    return generations.stream().filter(g -> g.liveAt(now)).toList();
  }

  /**
   * The generations that still answer for what they signed at {@code now} — publish CRLs, are trusted for client
   * certificates, listed in caCerts: the {@link #live} ones and the current one always, oldest first.
   */
  public List<Generation> answering(Instant now) {
    return generations.stream().filter(g -> g.equals(current) || g.liveAt(now)).toList();
  }

  /** Generation {@code n}, if it has a certificate. */
  public Optional<Generation> generation(int n) {
    return generations.stream().filter(g -> g.number() == n).findFirst();
  }

  /**
   * The generation of the CA key that signed {@code cert}: the issuer name is the CA's and the signature verifies
   * with that generation's key (the current one tried first). Empty for any other certificate.
   */
  public Optional<Generation> issuerOf(X509CertificateHolder cert) {
    if (!cert.getIssuer().equals(caName())) {
      return Optional.empty();
    }
    for (int i = generations.size() - 1; i >= 0; i--) {
      Generation g = generations.get(i);
      if (signedBy(cert, g.cert().getSubjectPublicKeyInfo())) {
        return Optional.of(g);
      }
    }
    return Optional.empty();
  }

  /**
   * The rollovers' cross-certificates (RFC 4210 4.4): each new key certified by the one before (NewWithOld) and each
   * old key by the one after (OldWithNew), so that relying parties trusting either certificate reach the other.
   */
  public List<X509CertificateHolder> crossCerts() {
    return crossCerts;
  }

  /** The cross-certificate of {@code subject}'s key signed by {@code signer}'s, if a rollover made one. */
  public Optional<X509CertificateHolder> crossCert(Generation subject, Generation signer) {
    return crossCerts.stream().filter(c -> c.getSubjectPublicKeyInfo().equals(subject.cert().getSubjectPublicKeyInfo())
        && signedBy(c, signer.cert().getSubjectPublicKeyInfo())).findFirst();
  }

  /**
   * What a node sends above a certificate the CA key {@code g} signed (TLS chain, CMP extraCerts): after a rollover
   * only the NewWithOld cross-certificates for that key — a client trusting the new CA certificate has it, and one
   * trusting the old builds the path through them, whereas the new self-signed certificate in the chain would stop
   * such a client (OpenSSL takes the first usable issuer: "self-signed certificate in certificate chain") — else the
   * CA certificate.
   */
  public List<X509CertificateHolder> certsAbove(Generation g) {
    List<X509CertificateHolder> cross = crossCertsFor(g);
    return cross.isEmpty() ? List.of(g.cert()) : cross;
  }

  /** The cross-certificates for the key of {@code g}, signed by another generation's (NewWithOld for the newest). */
  public List<X509CertificateHolder> crossCertsFor(Generation g) {
    return crossCerts.stream().filter(c -> c.getSubjectPublicKeyInfo().equals(g.cert().getSubjectPublicKeyInfo()))
        .toList();
  }

  public HsmToken token() {
    return token;
  }

  /**
   * The token of the exchange keys, where archived private keys are unwrapped and wrapped again for the agents: the
   * CA token unless {@code hsm.archivalToken} names another (a Luna partition that allows private-key wrapping, say).
   */
  public HsmToken exchangeToken() {
    return exchangeToken;
  }

  /** The label of the token data object holding {@link #chainDigest} of the imported chain. */
  public static final String CHAIN_LABEL = "keyarc-ca-chain";

  /** SHA-256 over the chain's certificates, each length-prefixed, in order. */
  public static byte[] chainDigest(List<X509CertificateHolder> chain) {
    try {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      for (X509CertificateHolder c : chain) {
        byte[] der = c.getEncoded();
        md.update(java.nio.ByteBuffer.allocate(4).putInt(der.length).array());
        md.update(der);
      }
      return md.digest();
    } catch (java.security.NoSuchAlgorithmException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The CA certificate's chain above it: the parent CAs' certificates, issuer first; empty for a root. */
  public List<X509CertificateHolder> chain() {
    return chain;
  }

  /** The current CA certificate (of {@link #current}). */
  public X509CertificateHolder caCert() {
    return current.cert();
  }

  /** The CA's name: every generation's certificate has the same. */
  public X500Name caName() {
    return current.cert().getSubject();
  }

  /** The current CA key's public key. */
  public PublicKey caPublicKey() {
    return publicKey(current.cert().getSubjectPublicKeyInfo());
  }

  /**
   * The public key of every CA key whose certificate has not ended at {@code now}, the current one first (and the
   * current one always): what client certificates are checked against.
   */
  public List<PublicKey> publicKeys(Instant now) {
    List<PublicKey> out = new ArrayList<>();
    for (Generation g : answering(now)) {
      out.add(0, publicKey(g.cert().getSubjectPublicKeyInfo()));
    }
    return out;
  }

  /** The current CA signing key (a handle; the key never leaves the token). */
  public KeyHandle caKey() {
    return current.key();
  }

  /**
   * Re-reads the exchange and responder keys when the store lists others than this node holds: another node of
   * the cluster renewed or retired one. Returns whether anything changed.
   */
  public boolean refresh(Store store) throws CaException, HsmException {
    List<String> ex = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE)).stream()
        .filter(r -> r.retiredAt() == null).map(CaKeyStore.Row::keyLabel).toList();
    List<String> rs = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.RESPONDER)).stream()
        .map(CaKeyStore.Row::keyLabel).toList();
    List<String> os = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.OCSP)).stream()
        .map(CaKeyStore.Row::keyLabel).toList();
    boolean changed = false;
    if (!ex.equals(exchanges.stream().map(Exchange::label).toList())) {
      reloadExchanges(store);
      changed = true;
    }
    if (!rs.equals(responders.stream().map(Responder::label).toList())
        || !os.equals(ocspSigners.stream().map(Responder::label).toList())) {
      reloadResponders(store);
      changed = true;
    }
    return changed;
  }

  public KeyHandle auditKey() {
    return auditKey;
  }

  public PublicKey auditPublicKey() {
    return auditPublicKey;
  }

  public KeyHandle macKey() {
    return macKey;
  }

  /**
   * The CMP responder key that signs answers now: the newest one whose certificate is valid. Empty before the
   * first one is made (a store initialised before responder keys existed, until the node starts).
   */
  public Optional<Responder> currentResponder(Instant now) {
    java.util.Date d = java.util.Date.from(now);
    return responders.stream().filter(r -> r.cert().isValidOn(d)).findFirst();
  }

  /** The OCSP signing key certified by the current CA key that signs OCSP answers now. */
  public Optional<Responder> currentOcspSigner(Instant now) {
    return currentOcspSigner(now, current.number());
  }

  /**
   * The OCSP signing key that answers now for what the CA key of {@code generation} issued: the newest one that key
   * certified whose certificate is valid (RFC 6960 4.2.2.2: the delegated signer is certified by the issuer's key).
   */
  public Optional<Responder> currentOcspSigner(Instant now, int generation) {
    java.util.Date d = java.util.Date.from(now);
    return ocspSigners.stream().filter(r -> r.generation() == generation && r.cert().isValidOn(d)).findFirst();
  }

  /** A fresh BC ContentSigner over a responder key (one per answer). */
  public ContentSigner responderSigner(Responder r) throws HsmException {
    return signers.signer(r.key(), r.algorithm());
  }

  /**
   * What the node's own key {@code spki} is, if it is one: a CA key, an exchange key, a CMP responder or OCSP signing
   * key. Empty for any other key. No enrollment may certify one of them for someone else.
   */
  public Optional<String> nodeKeyRole(SubjectPublicKeyInfo spki) {
    if (generations().stream().anyMatch(g -> spki.equals(g.cert().getSubjectPublicKeyInfo()))) {
      return Optional.of("this CA's own key");
    }
    if (exchanges.stream().anyMatch(e -> spki.equals(e.cert().getSubjectPublicKeyInfo()))) {
      return Optional.of("this CA's exchange (archival) key");
    }
    if (responders.stream().anyMatch(r -> spki.equals(r.cert().getSubjectPublicKeyInfo()))) {
      return Optional.of("this CA's CMP responder key");
    }
    if (ocspSigners.stream().anyMatch(r -> spki.equals(r.cert().getSubjectPublicKeyInfo()))) {
      return Optional.of("this CA's OCSP signing key");
    }
    return Optional.empty();
  }

  /** All exchange keys, newest first (old ones stay so that in-flight requests still decrypt). */
  public List<Exchange> exchanges() {
    return exchanges;
  }

  /** The exchange certificate clients should encrypt to now: the newest one currently valid. */
  public Optional<Exchange> currentExchange(Instant now) {
    java.util.Date d = java.util.Date.from(now);
    return exchanges.stream().filter(e -> e.cert().isValidOn(d)).findFirst();
  }

  @Override
  public String toString() {
    return "CaKeyring[" + caName() + ", " + generations.size() + " CA key(s), token " + token.label() + "]";
  }
}
