package org.keyarc.ca.net;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.keys.NodeTls;
import org.keyarc.protocol.tls.TlsPolicy;

/**
 * TLS for the listeners, with {@link TlsPolicy} (TLS 1.3 and 1.2, ECDHE + AEAD only): the server's certificate is
 * the node's own ({@link NodeTls}, key in the CA token, used through SunPKCS11) or from PEM files; client
 * certificates are checked against the CA.
 */
public final class TlsSupport {
  private TlsSupport() {}

  /** A server context for {@code cfg}; {@code own} is the node's own key, required when {@code cfg.own()}. */
  public static SslContext serverContext(NodeSettings.Tls cfg, java.util.List<X509CertificateHolder> cas,
      NodeTls.Key own) throws SSLException {
    try {
      X509Certificate[] caCert = new X509Certificate[cas.size()];
      for (int i = 0; i < caCert.length; i++) {
        caCert[i] = new JcaX509CertificateConverter().getCertificate(cas.get(i));
      }
      SslContextBuilder b = cfg.own()
          ? SslContextBuilder.forServer(new FixedKeyManager(own.privateKey(), own.chain()))
          : SslContextBuilder.forServer(cfg.certFile().toFile(), cfg.keyFile().toFile());
      return b.sslProvider(SslProvider.JDK)
          .protocols(TlsPolicy.PROTOCOLS)
          .ciphers(TlsPolicy.CIPHER_SUITES, SupportedCipherSuiteFilter.INSTANCE)
          .trustManager(caCert)
          .clientAuth(switch (cfg.clientAuth()) {
            case REQUIRE -> ClientAuth.REQUIRE;
            case NONE -> ClientAuth.NONE;
            case OPTIONAL -> ClientAuth.OPTIONAL;
          })
          .build();
    } catch (java.security.cert.CertificateException e) {
      throw new SSLException("the CA certificate cannot be used as TLS trust anchor: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new SSLException(e.getMessage(), e);
    }
  }

  /** The verified client certificate of a finished handshake, or null. */
  static X509CertificateHolder peerCertificate(SslHandler ssl) {
    if (ssl == null) {
      return null;
    }
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      return chain.length == 0 ? null : new X509CertificateHolder(chain[0].getEncoded());
    } catch (SSLPeerUnverifiedException e) {
      return null;
    } catch (CertificateEncodingException | java.io.IOException e) {
      return null;
    }
  }

  /**
   * Presents exactly one key and chain, whatever else the CA token's KeyStore lists (it lists the CA key too,
   * whose certificate a generic key manager might pick for TLS).
   */
  private static final class FixedKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "keyarc-node-tls";
    private final PrivateKey key;
    private final X509Certificate[] chain;

    FixedKeyManager(PrivateKey key, X509Certificate[] chain) {
      this.key = key;
      this.chain = chain.clone();
    }

    private String alias(String keyType) {
      return keyType != null && keyType.startsWith(key.getAlgorithm()) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return alias(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return alias(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return alias(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return ALIAS.equals(alias) ? key : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }
}
