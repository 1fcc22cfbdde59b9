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
import javax.net.ssl.SSLEngine;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.frame.CmpFrame;
import org.keyarc.protocol.frame.CmpFrameDecoder;
import org.keyarc.protocol.frame.CmpFrameEncoder;

/**
 * The binary transport's client: one connection, many requests in flight. Each request gets the next
 * request id; answers are matched by id, whatever order they come in.
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
              SSLEngine engine = tls.createSSLEngine(host, port);
              engine.setUseClientMode(true);
              ch.pipeline().addLast("tls", new SslHandler(engine));
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
                self[0].failAll("the node closed the connection");
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                self[0].failAll("connection error: " + cause.getMessage());
                ctx.close();
              }
            });
          }
        });
    ChannelFuture f = b.connect(host, port).awaitUninterruptibly();
    if (!f.isSuccess()) {
      if (shared == null) {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
      }
      throw new CmpClientException(ErrorCode.NODE_UNAVAILABLE, "cannot connect to tcp://" + host + ":" + port + ": "
          + (f.cause() == null ? "unknown" : f.cause().getMessage()));
    }
    self[0] = new BinaryTransport(group, shared == null, f.channel(), "tcp://" + host + ":" + port);
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
