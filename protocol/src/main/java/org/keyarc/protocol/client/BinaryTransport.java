package org.keyarc.protocol.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.frame.CmpFrame;
import org.keyarc.protocol.frame.CmpFrameDecoder;
import org.keyarc.protocol.frame.CmpFrameEncoder;
import org.keyarc.protocol.tls.TlsPolicy;

/**
 * The binary transport's client: one connection, many requests in flight. Each request gets the next
 * request id; answers are matched by id, whatever order they come in. With an {@link SSLContext} the connection is
 * TLS ({@link TlsPolicy}: TLS 1.3/1.2, ECDHE + AEAD, the node's certificate must name {@code host}); the handshake
 * is finished, or refused with a clear error, before {@code connect} returns. There is no fallback to plain TCP.
 */
public final class BinaryTransport implements CmpTransport {
  private final EventLoopGroup group;
  private final boolean ownGroup;
  private final Channel channel;
  private final String endpoint;
  private final AtomicLong nextId = new AtomicLong(1);
  private final Map<Long, CompletableFuture<byte[]>> inFlight = new ConcurrentHashMap<>();

  private BinaryTransport(EventLoopGroup group, boolean ownGroup, Channel channel, String endpoint) {
    this.group = group;
    this.ownGroup = ownGroup;
    this.channel = channel;
    this.endpoint = endpoint;
  }

  /** How long connect waits for the TLS handshake. */
  private static final long HANDSHAKE_MILLIS = 15_000;

  /** Connects with an event loop of its own; {@code tls} null for plain TCP. */
  public static BinaryTransport connect(String host, int port, SSLContext tls, int maxFrame) throws CmpClientException {
    return connect(host, port, tls, maxFrame, null);
  }

  /**
   * Connects on {@code shared} event loops (many connections, few threads: the load generator), or on an event loop
   * of its own when {@code shared} is null. A shared group is the caller's to shut down.
   */
  public static BinaryTransport connect(String host, int port, SSLContext tls, int maxFrame, EventLoopGroup shared)
      throws CmpClientException {
    EventLoopGroup group = shared != null ? shared : new NioEventLoopGroup(1);
    BinaryTransport[] self = new BinaryTransport[1];
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls != null) {
              ch.pipeline().addLast("tls", new SslHandler(TlsPolicy.clientEngine(tls, host, port)));
            }
            ch.pipeline().addLast("frames", new CmpFrameDecoder(maxFrame));
            ch.pipeline().addLast("encoder", new CmpFrameEncoder());
            ch.pipeline().addLast("answers", new SimpleChannelInboundHandler<CmpFrame>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, CmpFrame f) {
                self[0].answer(f);
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                if (self[0] != null) {
                  self[0].failAll(tls == null ? "the node closed the connection (if its binary listener speaks TLS, "
                      + "use tls://" + host + ":" + port + ")" : "the node closed the connection");
                }
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (self[0] != null) {
                  self[0].failAll("connection error: " + cause.getMessage());
                }
                ctx.close();
              }
            });
          }
        });
    String endpoint = (tls == null ? "tcp://" : "tls://") + host + ":" + port;
    ChannelFuture f = b.connect(host, port).awaitUninterruptibly();
    if (!f.isSuccess()) {
      if (shared == null) {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
      }
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "cannot connect to " + endpoint + ": "
          + (f.cause() == null ? "unknown" : f.cause().getMessage()));
    }
    self[0] = new BinaryTransport(group, shared == null, f.channel(), endpoint);
    if (tls != null) {
      io.netty.util.concurrent.Future<?> hs = f.channel().pipeline().get(SslHandler.class).handshakeFuture();
      if (!hs.awaitUninterruptibly(HANDSHAKE_MILLIS) || !hs.isSuccess()) {
        Throwable cause = hs.cause();
        self[0].close();
        if (cause == null) {
          throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "TLS handshake with " + endpoint + " did not finish "
              + "within " + HANDSHAKE_MILLIS / 1000 + " s");
        }
        throw new CmpClientException(TlsPolicy.isCertificateFailure(cause) ? ErrorCode.UNKNOWN_SIGNER
            : ErrorCode.NODE_UNAVAILABLE, "TLS handshake with " + endpoint + " failed: " + TlsPolicy.reason(cause)
            + (TlsPolicy.isCertificateFailure(cause) ? " (the node's certificate must be issued by the trusted CA "
            + "certificate and name the host or IP address dialled)" : ""), cause);
      }
    }
    return self[0];
  }

  @Override
  public CompletableFuture<byte[]> send(byte[] pkiMessage) {
    long id = nextId.getAndIncrement();
    return sendFrame(new CmpFrame(id, pkiMessage));
  }

  /** Sends a frame with a chosen id (tests of the wire use this). */
  public CompletableFuture<byte[]> sendFrame(CmpFrame frame) {
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    inFlight.put(frame.requestId(), answer);
    channel.writeAndFlush(frame).addListener(w -> {
      if (!w.isSuccess()) {
        inFlight.remove(frame.requestId());
        answer.completeExceptionally(new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "cannot send to " + endpoint
            + ": " + w.cause().getMessage(), w.cause()));
      }
    });
    return answer;
  }

  /** The raw channel (tests write broken bytes through it). */
  public Channel channel() {
    return channel;
  }

  private void answer(CmpFrame f) {
    CompletableFuture<byte[]> waiting = inFlight.remove(f.requestId());
    if (waiting != null) {
      waiting.complete(f.message());
    } else if (f.requestId() == 0) {
      // a connection-level error: the node could not tell which request it belongs to
      failAllWith(f.message());
    }
  }

  private void failAllWith(byte[] errorMessage) {
    for (Long id : inFlight.keySet()) {
      CompletableFuture<byte[]> w = inFlight.remove(id);
      if (w != null) {
        w.complete(errorMessage);
      }
    }
  }

  private void failAll(String why) {
    for (Long id : inFlight.keySet()) {
      CompletableFuture<byte[]> w = inFlight.remove(id);
      if (w != null) {
        w.completeExceptionally(new CmpClientException(ErrorCode.NODE_UNAVAILABLE, endpoint + ": " + why));
      }
    }
  }

  /** How many requests wait for an answer. */
  public int inFlight() {
    return inFlight.size();
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    if (ownGroup) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}
