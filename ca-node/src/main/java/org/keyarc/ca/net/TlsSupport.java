package org.keyarc.ca.net;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.File;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.keyarc.ca.config.NodeSettings;

/** TLS for the binary listener: the server's certificate and key from PEM files, clients checked against the CA. */
public final class TlsSupport {
  private TlsSupport() {}

  public static SslContext serverContext(NodeSettings.Tls cfg, X509CertificateHolder ca) throws SSLException {
    try {
      X509Certificate caCert = new JcaX509CertificateConverter().getCertificate(ca);
      return SslContextBuilder.forServer(cfg.certFile().toFile(), cfg.keyFile().toFile())
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
      throw new SSLException("binary.tls: " + e.getMessage(), e);
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
}
