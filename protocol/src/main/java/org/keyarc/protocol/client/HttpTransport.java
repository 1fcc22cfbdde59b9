package org.keyarc.protocol.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLContext;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.tls.TlsPolicy;

/**
 * CMP over HTTP (RFC 6712 / RFC 9811): POST application/pkixcmp, the answer in the response body. An
 * {@code https://} URL is TLS with {@link TlsPolicy} (the context's trust anchors, endpoint identification).
 */
public final class HttpTransport implements CmpTransport {
  public static final String CONTENT_TYPE = "application/pkixcmp";
  private final URI uri;
  private final HttpClient http;

  /** Plain HTTP; an https:// URI here uses the JDK's default trust (prefer {@link #HttpTransport(URI, SSLContext)}). */
  public HttpTransport(URI uri) {
    this(uri, null);
  }

  /** {@code tls} (may be null for http://) for an https:// URI. */
  public HttpTransport(URI uri, SSLContext tls) {
    this.uri = uri;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (tls != null) {
      b.sslContext(tls).sslParameters(TlsPolicy.clientParameters(tls));
    }
    this.http = b.build();
  }

  @Override
  public CompletableFuture<byte[]> send(byte[] pkiMessage) {
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
        .header("Content-Type", CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofByteArray(pkiMessage)).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).handle((resp, err) -> {
      if (err != null) {
        if (TlsPolicy.isCertificateFailure(err)) {
          throw new CompletionException(new CmpClientException(ErrorCode.UNKNOWN_SIGNER, "TLS handshake with " + uri
              + " failed: " + TlsPolicy.reason(err) + " (the node's certificate must be issued by the trusted CA "
              + "certificate and name the host or IP address dialled)", err));
        }
        throw new CompletionException(new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "cannot reach " + uri
            + ": " + (err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage()), err));
      }
      String type = resp.headers().firstValue("Content-Type").orElse("");
      if (!type.startsWith(CONTENT_TYPE)) {
        throw new CompletionException(new CmpClientException(ErrorCode.BAD_MESSAGE, uri + " answered HTTP "
            + resp.statusCode() + " with " + (type.isEmpty() ? "no content type" : type) + ", not " + CONTENT_TYPE));
      }
      return resp.body();
    });
  }

  @Override
  public String endpoint() {
    return uri.toString();
  }

  @Override
  public void close() {
    // HttpClient has no close on Java 17; its threads end with the JVM
  }
}
