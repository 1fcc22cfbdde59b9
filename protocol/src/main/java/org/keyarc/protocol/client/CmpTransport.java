package org.keyarc.protocol.client;

import java.util.concurrent.CompletableFuture;

/** Carries DER PKIMessages to a CA node and brings the answers back. */
public interface CmpTransport extends AutoCloseable {
  /** Sends one DER PKIMessage; the future completes with the DER answer. */
  CompletableFuture<byte[]> send(byte[] pkiMessage);

  /** "tls://host:port", "tcp://host:port" or the HTTP(S) URL, for messages. */
  String endpoint();

  @Override
  void close();

  /**
   * A transport for a URL: {@code tls://host:port} (binary over TLS), {@code https://host:port/path} (HTTP over
   * TLS), or, only when asked for by name, the plain {@code tcp://host:port} and {@code http://host:port/path}.
   * {@code tls} is the TLS client context ({@link org.keyarc.protocol.tls.TlsPolicy#clientContext}); it is
   * required for tls:// and https:// and not used for the plain ones.
   */
  static CmpTransport connect(String url, javax.net.ssl.SSLContext tls) throws CmpClientException {
    return connect(url, tls, null);
  }

  /** Like {@link #connect(String, javax.net.ssl.SSLContext)}, binary connections on shared event loops (or null). */
  static CmpTransport connect(String url, javax.net.ssl.SSLContext tls, io.netty.channel.EventLoopGroup shared)
      throws CmpClientException {
    boolean secure = url.startsWith("tls://") || url.startsWith("https://");
    if (secure && tls == null) {
      throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "node URL '" + url + "' is TLS: it "
          + "needs the CA certificate as trust anchor");
    }
    if (url.startsWith("http://") || url.startsWith("https://")) {
      return new HttpTransport(java.net.URI.create(url), secure ? tls : null);
    }
    if (url.startsWith("tcp://") || url.startsWith("tls://")) {
      java.net.URI u = java.net.URI.create(url);
      if (u.getHost() == null || u.getPort() < 0) {
        throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "node URL '" + url
            + "' needs a host and a port: " + url.substring(0, 6) + "HOST:PORT");
      }
      return BinaryTransport.connect(u.getHost(), u.getPort(), secure ? tls : null,
          org.keyarc.protocol.frame.CmpFrame.DEFAULT_MAX_FRAME, shared);
    }
    throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "node URL '" + url
        + "' must start with tls:// (binary transport over TLS), https:// (RFC 6712 over TLS), or, in clear, "
        + "tcp:// or http://");
  }

  /** {@link #connect(String, javax.net.ssl.SSLContext, io.netty.channel.EventLoopGroup)} trusting only {@code ca}. */
  static CmpTransport connect(String url, org.bouncycastle.cert.X509CertificateHolder ca,
      io.netty.channel.EventLoopGroup shared) throws CmpClientException {
    javax.net.ssl.SSLContext tls = null;
    if (ca != null) {
      try {
        tls = org.keyarc.protocol.tls.TlsPolicy.clientContext(ca, null);
      } catch (java.security.GeneralSecurityException e) {
        throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, e.getMessage(), e);
      }
    }
    return connect(url, tls, shared);
  }
}
