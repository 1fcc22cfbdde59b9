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
 */
public final class CaKeyring {
  public static final String CA_KEY_LABEL = "ca-signing";
  public static final String AUDIT_KEY_LABEL = "audit-signing";
  public static final String MAC_KEY_LABEL = "secret-mac";
  public static final String EXCHANGE_LABEL_PREFIX = "ca-exchange-";
  public static final String RESPONDER_LABEL_PREFIX = "cmp-responder-";
  /** Labels of the delegated OCSP signing keys (RFC 6960 4.2.2.2): the CA key signs no OCSP answer. */
  public static final String OCSP_LABEL_PREFIX = "ocsp-signing-";

  /** An exchange key and its certificate. */
  public record Exchange(String label, KeyHandle key, X509CertificateHolder cert) {}

  /** A CMP responder key (signs CMP answers), its certificate and the algorithm it signs with. */
  public record Responder(String label, KeyHandle key, X509CertificateHolder cert, SignatureAlgorithm algorithm) {}

  private final HsmToken token;
  private final HsmSigners signers;
  private final KeyHandle caKey;
  private final X509CertificateHolder caCert;
  private final SignatureAlgorithm caAlgorithm;
  private final KeyHandle auditKey;
  private final PublicKey auditPublicKey;
  private final KeyHandle macKey;
  private volatile List<Exchange> exchanges;
  private volatile List<Responder> responders = List.of();
  private volatile List<Responder> ocspSigners = List.of();

  private List<X509CertificateHolder> chain = List.of();

  private CaKeyring(HsmToken token, KeyHandle caKey, X509CertificateHolder caCert, SignatureAlgorithm caAlgorithm,
      KeyHandle auditKey, PublicKey auditPublicKey, KeyHandle macKey, List<Exchange> exchanges) {
    this.token = token;
    this.signers = HsmSigners.iaik(token);
    this.caKey = caKey;
    this.caCert = caCert;
    this.caAlgorithm = caAlgorithm;
    this.auditKey = auditKey;
    this.auditPublicKey = auditPublicKey;
    this.macKey = macKey;
    this.exchanges = exchanges;
  }

  /** Finds every CA key in the token and every certificate in the store. */
  public static CaKeyring load(Store store, HsmToken token) throws CaException {
    try {
      return loadKeys(store, token);
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the CA token lacks a key the store names: " + e.getMessage(), e);
    }
  }

  private static CaKeyring loadKeys(Store store, HsmToken token) throws CaException, HsmException {
    List<CaKeyStore.Row> ca = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.CA));
    List<CaKeyStore.Row> audit = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.AUDIT));
    if (ca.isEmpty() || audit.isEmpty()) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "the CA is not initialised in this store; run "
          + "'keyarc ca init' first");
    }
    if (ca.get(0).cert() == null) {
      throw new CaException(ErrorCode.CA_NOT_INITIALISED, "the CA certificate has not been imported yet; run "
          + "'keyarc ca import-cert --cert FILE' with the certificate the parent CA issued");
    }
    X509CertificateHolder caCert = holder(ca.get(0).cert());
    KeyHandle caKey = token.call(s -> s.findKey(KeyClass.PRIVATE, ca.get(0).keyLabel()));
    KeyHandle auditKey = token.call(s -> s.findKey(KeyClass.PRIVATE, audit.get(0).keyLabel()));
    KeyHandle macKey = token.call(s -> s.findKey(KeyClass.SECRET, MAC_KEY_LABEL));
    PublicKey caPublic = publicKey(caCert.getSubjectPublicKeyInfo());
    PublicKey auditPublic = publicKey(SubjectPublicKeyInfo.getInstance(audit.get(0).publicKey()));
    CaKeyring k = new CaKeyring(token, caKey, caCert, algorithmFor(caPublic), auditKey, auditPublic, macKey,
        List.of());
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

  /** Re-reads the exchange keys (after a renewal). */
  public void reloadExchanges(Store store) throws CaException, HsmException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE));
    List<Exchange> out = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      if (r.retiredAt() != null) {
        continue; // destroyed in the HSM after its grace period
      }
      KeyHandle h = token.call(s -> s.findKey(KeyClass.PRIVATE, r.keyLabel()));
      out.add(new Exchange(r.keyLabel(), h, holder(r.cert())));
    }
    exchanges = List.copyOf(out);
  }

  /** Re-reads the CMP responder and OCSP signing keys (after a renewal, here or by another node on the same store). */
  public void reloadResponders(Store store) throws CaException, HsmException {
    responders = load(store, CaKeyStore.Kind.RESPONDER);
    ocspSigners = load(store, CaKeyStore.Kind.OCSP);
  }

  private List<Responder> load(Store store, CaKeyStore.Kind kind) throws CaException, HsmException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(kind));
    List<Responder> out = new ArrayList<>();
    for (CaKeyStore.Row r : rows) {
      KeyHandle h = token.call(s -> s.findKey(KeyClass.PRIVATE, r.keyLabel()));
      X509CertificateHolder cert = holder(r.cert());
      out.add(new Responder(r.keyLabel(), h, cert, algorithmFor(publicKey(cert.getSubjectPublicKeyInfo()))));
    }
    return List.copyOf(out);
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

  /** A fresh BC ContentSigner over the CA key (one per certificate or CRL). */
  public ContentSigner caSigner() throws HsmException {
    return signers.signer(caKey, caAlgorithm);
  }

  public HsmToken token() {
    return token;
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

  public X509CertificateHolder caCert() {
    return caCert;
  }

  public X500Name caName() {
    return caCert.getSubject();
  }

  public PublicKey caPublicKey() {
    return publicKey(caCert.getSubjectPublicKeyInfo());
  }

  /** The CA's signing key (a handle; the key never leaves the token). */
  public KeyHandle caKey() {
    return caKey;
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

  /** The OCSP signing key that signs OCSP answers now: the newest one whose certificate is valid. */
  public Optional<Responder> currentOcspSigner(Instant now) {
    java.util.Date d = java.util.Date.from(now);
    return ocspSigners.stream().filter(r -> r.cert().isValidOn(d)).findFirst();
  }

  /** A fresh BC ContentSigner over a responder key (one per answer). */
  public ContentSigner responderSigner(Responder r) throws HsmException {
    return signers.signer(r.key(), r.algorithm());
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
    return "CaKeyring[" + caCert.getSubject() + ", token " + token.label() + "]";
  }
}
