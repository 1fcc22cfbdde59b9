package org.keyarc.protocol.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.keyarc.protocol.ErrorCode;

/** CMP over HTTP (RFC 6712 / RFC 9811): POST application/pkixcmp, the answer in the response body. */
public final class HttpTransport implements CmpTransport {
  public static final String CONTENT_TYPE = "application/pkixcmp";
  private final URI uri;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  public HttpTransport(URI uri) {
    this.uri = uri;
  }

  @Override
  public CompletableFuture<byte[]> send(byte[] pkiMessage) {
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
        .header("Content-Type", CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofByteArray(pkiMessage)).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).handle((resp, err) -> {
      if (err != null) {
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
