package org.keyarc.ca.keys;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmSigners;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.protocol.ErrorCode;

/**
 * The node's own TLS server certificate, so that TLS is the default with no extra step: an EC P-256 key made in
 * the CA token (sensitive, not extractable, sign only: {@link KeyPolicy#TLS_SERVER}) and a certificate the CA key
 * signs for it (serverAuth, digitalSignature, subjectAltName 127.0.0.1, localhost, the listeners' hosts and the
 * configured names). It is made at {@code ca init} and at node start whenever the newest one is missing, ends
 * within {@link #RENEW_BEFORE}, or does not name every configured host; each is recorded ({@code ca_key} kind
 * TLS) and audited. The TLS handshake signs with the key through SunPKCS11 ({@link #open}): the key never leaves
 * the token, as the CA's other keys.
 */
public final class NodeTls {
  public static final String LABEL_PREFIX = "node-tls-";
  /** Validity of a node TLS certificate (bounded by the CA certificate's). */
  public static final Duration VALIDITY = Duration.ofDays(365);
  /** A certificate with less left than this is replaced at start. */
  public static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private static final BcX509ExtensionUtils EXT = new BcX509ExtensionUtils();

  private NodeTls() {}

  /** A node TLS certificate and the label of its key in the CA token. */
  public record Current(String label, X509CertificateHolder cert) {
    /** The DNS names and IP addresses the certificate names. */
    public Set<String> names() {
      return namesOf(cert);
    }
  }

  /**
   * The node's TLS key as JSSE takes it (a SunPKCS11 reference into the token), its chain (it, the CA) and the
   * name of the SunPKCS11 provider registered for it ({@link #close} removes it).
   */
  public record Key(PrivateKey privateKey, X509Certificate[] chain, String providerName) implements AutoCloseable {
    /** Unregisters the SunPKCS11 provider (the node stops; the token is about to close). */
    @Override
    public void close() {
      synchronized (NodeTls.class) {
        Security.removeProvider(providerName);
      }
    }

    @Override
    public String toString() {
      return "NodeTls.Key[" + chain[0].getSubjectX500Principal() + ", key in the CA token]";
    }
  }

  /**
   * The names a node certificate must carry for listeners on {@code hosts} plus {@code extra}: 127.0.0.1 and
   * localhost always; a wildcard bind address (0.0.0.0, ::) stands for this machine's host name.
   */
  public static Set<String> names(Collection<String> hosts, Collection<String> extra) {
    Set<String> out = new TreeSet<>(List.of("127.0.0.1", "localhost"));
    for (String h : hosts) {
      if (h == null || h.isBlank() || h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]")) {
        try {
          out.add(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
        } catch (UnknownHostException e) {
          // no host name: the loopback names remain
        }
      } else {
        out.add(normal(h));
      }
    }
    for (String n : extra) {
      out.add(normal(n));
    }
    return out;
  }

  /** A DNS name in lower case; an IP address literal as InetAddress writes it (no lookup for a literal). */
  private static String normal(String n) {
    String s = n.toLowerCase(Locale.ROOT);
    if (isIp(s)) {
      try {
        return InetAddress.getByName(s.replace("[", "").replace("]", "")).getHostAddress();
      } catch (UnknownHostException e) {
        return s;
      }
    }
    return s;
  }

  /** The newest node TLS certificate in the store, if any. */
  public static Optional<Current> current(Store store) throws CaException {
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.TLS));
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Current(rows.get(0).keyLabel(), CaKeyring.holder(rows.get(0).cert())));
  }

  /**
   * The node TLS certificate to use now: the newest one when it is this CA's, valid for more than {@link
   * #RENEW_BEFORE} and names every one of {@code names}; otherwise a new key and certificate, recorded and
   * audited as {@code actor}.
   */
  public static Current ensure(Store store, HsmToken token, CaKeyring keys, Set<String> names, String actor,
      Instant now) throws CaException {
    Optional<Current> have = current(store);
    if (have.isPresent() && usable(have.get(), keys, names, now)) {
      return have.get();
    }
    return issue(store, token, keys, names, actor, now);
  }

  private static boolean usable(Current c, CaKeyring keys, Set<String> names, Instant now) {
    // signed by the current CA key: after a rollover the node's TLS certificate is re-issued under the new one
    return c.cert().getIssuer().equals(keys.caCert().getSubject())
        && CaKeyring.signedBy(c.cert(), keys.caCert().getSubjectPublicKeyInfo())
        && c.cert().getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE))
        && c.names().containsAll(names);
  }

  /** A new node TLS key in the token and its certificate, recorded ({@code ca_key} TLS) and audited. */
  public static Current issue(Store store, HsmToken token, CaKeyring keys, Set<String> names, String actor,
      Instant now) throws CaException {
    String label = LABEL_PREFIX + CaInit.uniqueSuffix(now);
    HsmSession.GeneratedKeyPair pair = HsmCalls.call(() -> token.call(s ->
        s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.TLS_SERVER, label)));
    X509CertificateHolder ca = keys.caCert();
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.publicKey().getEncoded());
    Instant notAfter = now.plus(VALIDITY);
    if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
      notAfter = ca.getNotAfter().toInstant();
    }
    String first = names.stream().filter(n -> !isIp(n)).findFirst().orElse("localhost");
    X500Name subject = new X500Name("CN=" + first + ", OU=keyarc CA node TLS");
    X509CertificateHolder cert;
    try {
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(ca.getSubject(), new SerialNumbers().next(),
          Date.from(now.minusSeconds(60)), Date.from(notAfter), subject, spki);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      List<GeneralName> sans = new ArrayList<>();
      for (String n : names) {
        sans.add(new GeneralName(isIp(n) ? GeneralName.iPAddress : GeneralName.dNSName, n));
      }
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
      b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(spki));
      b.addExtension(Extension.authorityKeyIdentifier, false, CertFactory.authorityKeyId(ca));
      cert = b.build(HsmCalls.call(keys::caSigner));
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    try {
      X509Certificate x = new JcaX509CertificateConverter().getCertificate(cert);
      HsmCalls.call(() -> token.call(s -> {
        s.storeCertificate(pair.privateKey(), x);
        return null;
      }));
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
    Instant end = notAfter;
    BigInteger serial = cert.getSerialNumber();
    store.inTransaction(tx -> {
      tx.caKeys().insert(CaKeyStore.Kind.TLS, label, now, end, Encodings.der(cert), Encodings.der(spki), now);
      Audit.append(tx, actor, AuditAction.TLS_CERT_ISSUE, label, "serial=" + Digests.hex(serial) + " names="
          + String.join(",", names) + " notAfter=" + end, now);
      return null;
    });
    return new Current(label, cert);
  }

  /**
   * Opens the node TLS key for JSSE: a SunPKCS11 provider on the CA token (registered, since JSSE finds its
   * signatures among registered providers only; a provider of the same name from an earlier start in this JVM is
   * replaced) and the key by its label. {@code pin} is used for SunPKCS11's login and not kept.
   */
  public static Key open(HsmToken token, char[] pin, Current current, X509CertificateHolder ca) throws CaException {
    return open(token, pin, current, List.of(ca));
  }

  /**
   * {@link #open(HsmToken, char[], Current, X509CertificateHolder)} with the certificates sent above the node's:
   * the CA certificate, and after a rollover the new key certified by the old (NewWithOld), so that a client still
   * trusting the old CA certificate builds the path.
   */
  public static Key open(HsmToken token, char[] pin, Current current, List<X509CertificateHolder> above)
      throws CaException {
    try {
      HsmSigners sun = HsmSigners.sunPkcs11(token, pin);
      Provider p = sun.provider();
      synchronized (NodeTls.class) {
        Security.removeProvider(p.getName());
        Security.addProvider(p);
      }
      PrivateKey key = sun.jcaPrivateKey(current.label());
      JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
      X509Certificate[] chain = new X509Certificate[above.size() + 1];
      chain[0] = conv.getCertificate(current.cert());
      for (int i = 0; i < above.size(); i++) {
        chain[i + 1] = conv.getCertificate(above.get(i));
      }
      return new Key(key, chain, p.getName());
    } catch (HsmException e) {
      throw new CaException(ErrorCode.of(e.reason()), "the node's TLS key " + current.label() + " cannot be used: "
          + e.getMessage(), e);
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The DNS names and IP addresses (textual) in a certificate's subjectAltName. */
  public static Set<String> namesOf(X509CertificateHolder cert) {
    Set<String> out = new TreeSet<>();
    Extension ext = cert.getExtension(Extension.subjectAlternativeName);
    if (ext == null) {
      return out;
    }
    for (GeneralName g : GeneralNames.getInstance(ext.getParsedValue()).getNames()) {
      if (g.getTagNo() == GeneralName.dNSName) {
        out.add(g.getName().toString().toLowerCase(Locale.ROOT));
      } else if (g.getTagNo() == GeneralName.iPAddress) {
        byte[] ip = org.bouncycastle.asn1.DEROctetString.getInstance(g.getName()).getOctets();
        try {
          out.add(InetAddress.getByAddress(ip).getHostAddress());
        } catch (UnknownHostException e) {
          // not an address length: not a name a client could dial
        }
      }
    }
    return out;
  }

  private static boolean isIp(String n) {
    return n.matches("[0-9.]+") || n.contains(":");
  }
}
