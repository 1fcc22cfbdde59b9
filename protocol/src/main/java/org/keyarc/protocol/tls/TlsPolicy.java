package org.keyarc.protocol.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;

/**
 * The one TLS policy of the node's listeners and of keyarc's clients: TLS 1.3 and TLS 1.2 only; in TLS 1.2 only
 * ECDHE (forward secrecy) with an AEAD cipher (AES-GCM, ChaCha20-Poly1305), so no RSA key transport, no CBC, no
 * SHA-1 MAC, no static DH. A client trusts exactly one anchor, the CA certificate (never the JDK's cacerts), and
 * checks that the node's certificate names the host or IP address it dialled (endpoint identification "HTTPS").
 */
public final class TlsPolicy {
  /** The protocol versions, newest first. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** The cipher suites: TLS 1.3's AEAD suites, then TLS 1.2's ECDHE + AEAD suites. */
  public static final List<String> CIPHER_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private TlsPolicy() {}

  /**
   * A client context whose only trust anchor is {@code ca}; {@code keys} (may be null) present a client
   * certificate when the node asks for one.
   */
  public static SSLContext clientContext(X509CertificateHolder ca, KeyManager[] keys) throws GeneralSecurityException {
    X509Certificate anchor;
    try {
      anchor = new JcaX509CertificateConverter().getCertificate(ca);
    } catch (CertificateException e) {
      throw new GeneralSecurityException("the CA certificate cannot be a TLS trust anchor: " + e.getMessage(), e);
    }
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try {
      trust.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    trust.setCertificateEntry("keyarc-ca", anchor);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(keys, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** The client's parameters: {@link #PROTOCOLS}, {@link #CIPHER_SUITES} and endpoint identification. */
  public static SSLParameters clientParameters(SSLContext ctx) {
    SSLParameters p = ctx.getDefaultSSLParameters();
    p.setProtocols(PROTOCOLS.toArray(new String[0]));
    p.setCipherSuites(CIPHER_SUITES.toArray(new String[0]));
    p.setEndpointIdentificationAlgorithm("HTTPS");
    return p;
  }

  /** A client engine for {@code host:port}: the policy's versions and suites, the host checked against the certificate. */
  public static SSLEngine clientEngine(SSLContext ctx, String host, int port) {
    SSLEngine engine = ctx.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    engine.setSSLParameters(clientParameters(ctx));
    return engine;
  }

  /** True when {@code t} (or a cause) says the peer's certificate was not trusted or did not name the host. */
  public static boolean isCertificateFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CertificateException) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /** The innermost message of {@code t}, for one-line errors. */
  public static String reason(Throwable t) {
    String msg = null;
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c.getMessage() != null) {
        msg = c.getMessage();
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return msg == null ? t.getClass().getSimpleName() : msg;
  }
}
