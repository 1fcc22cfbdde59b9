package org.keyarc.ca.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.cmp.CmpResponder;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.revoke.CrlService;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.ca.revoke.OcspService;
import org.keyarc.protocol.frame.FrameBudget;

/**
 * The HTTP listener: CMP over HTTP (RFC 6712 / RFC 9811: POST {@code application/pkixcmp} to any path),
 * and GET {@code /crl} (the current CRL, DER), {@code /ca.crt} (the CA certificate, DER),
 * {@code /metrics} (Prometheus) and {@code /health}; in clear on {@code http.port}, and with TLS on {@code
 * http.tlsPort} (with a TLS context). In clear, one-time secrets, administrative answers and archival enrollments
 * are refused (TLS_REQUIRED) unless {@code http.allowSecretsInClear} is on; a TLS client certificate issued by
 * this CA is an identity, as on the binary listener.
 */
public final class HttpServer implements AutoCloseable {
  static final String PKIXCMP = "application/pkixcmp";
  static final String OCSP_REQUEST = "application/ocsp-request";
  private final Channel channel;

  private HttpServer(Channel channel) {
    this.channel = channel;
  }

  /**
   * A listener with the connection limits {@code limits}: the plain one ({@code tls} null) or HTTPS.
   * {@code notReady} says why the node should not take traffic (null when it may); {@code /health} answers 503
   * then.
   */
  public static HttpServer start(NodeSettings.Http cfg, SslContext tls, NodeSettings.Connections limits,
      CmpResponder responder, CrlService crls, OcspService ocsp, CaCertificates caCerts,
      Supplier<String> metrics,
      Supplier<String> notReady, ExecutorService workers, EventLoopGroup boss, EventLoopGroup io)
      throws InterruptedException {
    int port = tls == null ? cfg.port() : cfg.tlsPort();
    boolean confidential = tls != null || cfg.allowSecretsInClear();
    ConnectionGuard guard = new ConnectionGuard(limits.maxTotal(), limits.maxPerPeer(), limits.messageDeadline(),
        limits.minBytesPerSecond(), ch -> 0); // HTTP: a decoded request head starts its clocks (HttpBodyBudget)
    FrameBudget bodies = new FrameBudget(limits.maxBufferedBytes());
    ServerBootstrap b = new ServerBootstrap().group(boss, io).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("guard", guard);
            if (tls != null) {
              ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast("timeout", new ReadTimeoutHandler(120));
            // bounded request line and headers: longer ones fail decoding and are answered 414/431 below
            ch.pipeline().addLast("http", new HttpServerCodec(4096, 8192, 8192));
            ch.pipeline().addLast("budget", new HttpBodyBudget(bodies, cfg.maxBodyBytes()));
            ch.pipeline().addLast("aggregate", new HttpObjectAggregator(cfg.maxBodyBytes()));
            ch.pipeline().addLast("cmp", new Handler(responder, crls, ocsp, caCerts, metrics, notReady, workers,
                confidential));
          }
        });
    return new HttpServer(b.bind(cfg.host(), port).sync().channel());
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
  }

  /** A whole response of {@code type} with its Content-Length. */
  static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body) {
    FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return resp;
  }

  /**
   * The CA certificates the listener serves: {@code chain} (the current CA certificate and its parents') at
   * /ca-chain.pem; each CA key's certificate by generation at /ca.crt (the first) and /ca.crt/N; all of them and
   * the rollovers' cross-certificates at /ca-certs.pem.
   */
  public record CaCertificates(java.util.List<X509CertificateHolder> chain,
      java.util.SortedMap<Integer, X509CertificateHolder> byGeneration, java.util.List<X509CertificateHolder> cross) {}

  /** CA key numbers in paths: 1 to 4 digits. */
  private static final java.util.regex.Pattern GENERATION = java.util.regex.Pattern.compile(
      "/(crl|ca\\.crl|crl-delta|ca\\.crt)/([0-9]{1,4})");

  private static byte[] pem(java.util.List<X509CertificateHolder> certs) {
    java.io.StringWriter w = new java.io.StringWriter();
    try (org.bouncycastle.util.io.pem.PemWriter p = new org.bouncycastle.util.io.pem.PemWriter(w)) {
      for (X509CertificateHolder c : certs) {
        p.writeObject(new org.bouncycastle.util.io.pem.PemObject("CERTIFICATE", c.getEncoded()));
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final CmpResponder responder;
    private final CrlService crls;
    private final OcspService ocsp;
    private final java.util.SortedMap<Integer, X509CertificateHolder> caCerts;
    private final byte[] chainPem;
    private final byte[] allPem;
    private final Supplier<String> metrics;
    private final Supplier<String> notReady;
    private final ExecutorService workers;
    private final boolean confidential;

    Handler(CmpResponder responder, CrlService crls, OcspService ocsp, CaCertificates certs,
        Supplier<String> metrics, Supplier<String> notReady, ExecutorService workers, boolean confidential) {
      this.ocsp = ocsp;
      this.responder = responder;
      this.crls = crls;
      this.caCerts = certs.byGeneration();
      this.chainPem = pem(certs.chain());
      java.util.List<X509CertificateHolder> all = new java.util.ArrayList<>(certs.byGeneration().values());
      java.util.Collections.reverse(all); // the newest first
      all.addAll(certs.cross());
      this.allPem = pem(all);
      this.metrics = metrics;
      this.notReady = notReady;
      this.workers = workers;
      this.confidential = confidential;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent hs && hs.isSuccess()) {
        ConnectionGuard.complete(ctx.channel()); // the handshake is whole; the first request gets its own deadline
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      ConnectionGuard.complete(ctx.channel());
      if (req.decoderResult().isFailure()) {
        Throwable cause = req.decoderResult().cause();
        HttpResponseStatus status = cause instanceof io.netty.handler.codec.http.TooLongHttpLineException
            ? HttpResponseStatus.REQUEST_URI_TOO_LONG
            : cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException
                ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.BAD_REQUEST;
        send(ctx, false, status, "text/plain", ("the request cannot be read: " + status.reasonPhrase() + "\n")
            .getBytes(StandardCharsets.UTF_8));
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      String path = req.uri().split("\\?", 2)[0];
      if (path.equals("/ocsp") || path.startsWith("/ocsp/")) {
        ocsp(ctx, req, path, keepAlive);
        return;
      }
      if (req.method().equals(HttpMethod.POST)) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        // the media type exactly, case-insensitive (RFC 9110 8.3.1), parameters after ';' ignored
        if (!type.split(";", 2)[0].trim().equalsIgnoreCase(PKIXCMP)) {
          send(ctx, keepAlive, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "text/plain",
              ("POST needs Content-Type " + PKIXCMP + "\n").getBytes(StandardCharsets.UTF_8));
          return;
        }
        byte[] body = ByteBufUtil.getBytes(req.content());
        X509CertificateHolder tlsClient = TlsSupport.peerCertificate(ctx.pipeline().get(SslHandler.class));
        try {
          String peer = BinaryServer.peer(ctx);
          workers.execute(() -> responder.handleAsync(body, tlsClient, peer, confidential, workers)
              .whenComplete((answer, failure) -> {
                if (failure != null) { // an Error the node cannot answer
                  ctx.close();
                  return;
                }
                send(ctx, keepAlive, HttpResponseStatus.OK, PKIXCMP, answer);
              }));
        } catch (RejectedExecutionException e) {
          send(ctx, false, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "shutting down\n".getBytes());
        }
        return;
      }
      if (!req.method().equals(HttpMethod.GET)) {
        send(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "GET or POST\n".getBytes());
        return;
      }
      // what the CA key of a generation publishes: /crl, /crl-delta and /ca.crt for the first, the same plus /N
      // for key N
      java.util.regex.Matcher m = GENERATION.matcher(path);
      int generation = m.matches() ? Integer.parseInt(m.group(2)) : 0;
      String route = m.matches() ? "/" + m.group(1) : path;
      switch (route) {
        case "/crl", "/ca.crl" -> workers.execute(() -> {
          try {
            send(ctx, keepAlive, HttpResponseStatus.OK, "application/pkix-crl", crls.current(generation)
                .getEncoded());
          } catch (CaException e) {
            send(ctx, keepAlive, e.code() == ErrorCode.NOT_FOUND ? HttpResponseStatus.NOT_FOUND
                : HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", ("CRL unavailable: " + e.getMessage()
                + "\n").getBytes(StandardCharsets.UTF_8));
          } catch (java.io.IOException e) {
            send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
                ("CRL unavailable: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
          }
        });
        case "/crl-delta" -> workers.execute(() -> {
          try {
            send(ctx, keepAlive, HttpResponseStatus.OK, "application/pkix-crl", crls.currentDelta(generation)
                .getEncoded());
          } catch (CaException e) {
            send(ctx, keepAlive, e.code() == ErrorCode.BAD_REQUEST || e.code() == ErrorCode.NOT_FOUND
                ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
                ("delta CRL unavailable: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
          } catch (java.io.IOException e) {
            send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
                ("delta CRL unavailable: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
          }
        });
        case "/ca-chain.pem" -> send(ctx, keepAlive, HttpResponseStatus.OK, "application/x-pem-file", chainPem);
        case "/ca-certs.pem" -> send(ctx, keepAlive, HttpResponseStatus.OK, "application/x-pem-file", allPem);
        case "/ca.crt" -> {
          X509CertificateHolder c = caCerts.get(generation);
          if (c == null) {
            send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "text/plain", ("this CA has no key " + generation
                + "\n").getBytes(StandardCharsets.UTF_8));
            return;
          }
          try {
            send(ctx, keepAlive, HttpResponseStatus.OK, "application/pkix-cert", c.getEncoded());
          } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
          }
        }
        case "/metrics" -> send(ctx, keepAlive, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
            metrics.get().getBytes(StandardCharsets.UTF_8));
        case "/health" -> {
          // the reason names no secret; the details are in the node's log
          String why = notReady.get();
          send(ctx, keepAlive, why == null ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
              "text/plain", (why == null ? "ok\n" : "not ready: " + why + "\n").getBytes(StandardCharsets.UTF_8));
        }
        default -> send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "text/plain",
            ("not found: POST application/pkixcmp for CMP, application/ocsp-request to /ocsp for OCSP; GET /crl, "
                + "/crl-delta, /ca.crt (each also /N for CA key N), /ca-chain.pem, /ca-certs.pem, /metrics, /health, "
                + "/ocsp/{base64}\n").getBytes(StandardCharsets.UTF_8));
      }
    }

    /**
     * OCSP (RFC 6960 appendix A): POST of an application/ocsp-request to /ocsp, or GET /ocsp/ followed by the
     * URL-encoded base64 of the request; answered on a worker (the answer is signed in the HSM).
     */
    private void ocsp(ChannelHandlerContext ctx, FullHttpRequest req, String path, boolean keepAlive) {
      byte[] body;
      if (req.method().equals(HttpMethod.POST) && path.equals("/ocsp")) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (!type.split(";", 2)[0].trim().equalsIgnoreCase(OCSP_REQUEST)) {
          send(ctx, keepAlive, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "text/plain",
              ("POST /ocsp needs Content-Type " + OCSP_REQUEST + "\n").getBytes(StandardCharsets.UTF_8));
          return;
        }
        body = ByteBufUtil.getBytes(req.content());
      } else if (req.method().equals(HttpMethod.GET) && path.startsWith("/ocsp/")) {
        try {
          // percent-escapes only: a literal '+' of base64 stays a '+' (URLDecoder would make it a space)
          body = java.util.Base64.getDecoder().decode(java.net.URLDecoder.decode(path.substring(6)
              .replace("+", "%2B"), StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
          body = new byte[0]; // answered malformedRequest
        }
      } else {
        send(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
            "OCSP: POST /ocsp or GET /ocsp/{base64}\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      byte[] request = body;
      try {
        workers.execute(() -> {
          byte[] answer;
          try {
            answer = ocsp.respond(request);
          } catch (RuntimeException | Error e) { // never a silent worker
            answer = OcspService.internalError();
          }
          send(ctx, keepAlive, HttpResponseStatus.OK, "application/ocsp-response", answer);
        });
      } catch (RejectedExecutionException e) {
        send(ctx, false, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", "shutting down\n".getBytes());
      }
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String type,
        byte[] body) {
      FullHttpResponse resp = response(status, type, body);
      if (keepAlive) {
        HttpUtil.setKeepAlive(resp, true);
        ctx.writeAndFlush(resp);
      } else {
        ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
