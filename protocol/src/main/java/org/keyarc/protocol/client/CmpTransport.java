package org.keyarc.protocol.client;

import java.util.concurrent.CompletableFuture;

/** Carries DER PKIMessages to a CA node and brings the answers back. */
public interface CmpTransport extends AutoCloseable {
  /** Sends one DER PKIMessage; the future completes with the DER answer. */
  CompletableFuture<byte[]> send(byte[] pkiMessage);

  /** "tcp://host:port" or the HTTP URL, for messages. */
  String endpoint();

  @Override
  void close();

  /** A transport for a URL: {@code tcp://host:port} (binary) or {@code http://host:port/path}. */
  static CmpTransport connect(String url, javax.net.ssl.SSLContext tls) throws CmpClientException {
    return connect(url, tls, null);
  }

  /** Like {@link #connect(String, javax.net.ssl.SSLContext)}, binary connections on shared event loops (or null). */
  static CmpTransport connect(String url, javax.net.ssl.SSLContext tls, io.netty.channel.EventLoopGroup shared)
      throws CmpClientException {
    if (url.startsWith("http://") || url.startsWith("https://")) {
      return new HttpTransport(java.net.URI.create(url));
    }
    if (url.startsWith("tcp://")) {
      java.net.URI u = java.net.URI.create(url);
      if (u.getHost() == null || u.getPort() < 0) {
        throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "node URL '" + url
            + "' needs a host and a port: tcp://HOST:PORT");
      }
      return BinaryTransport.connect(u.getHost(), u.getPort(), tls, org.keyarc.protocol.frame.CmpFrame.DEFAULT_MAX_FRAME,
          shared);
    }
    throw new CmpClientException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "node URL '" + url
        + "' must start with tcp:// (binary transport) or http:// (RFC 6712)");
  }
}
