package org.keyarc.ca.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.cmp.CmpResponder;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.frame.CmpFrame;
import org.keyarc.protocol.frame.CmpFrameDecoder;
import org.keyarc.protocol.frame.FrameBudget;
import org.keyarc.protocol.frame.CmpFrameEncoder;
import org.keyarc.protocol.frame.CmpFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The binary CMP listener. Pipeline, fixed: TLS (optional) → idle timer → frame decoder → frame
 * encoder → {@link FrameHandler}. Requests run on the worker pool (they sign in the HSM and write the
 * store) and answers go back as soon as each is ready, in any order. Backpressure: a connection stops
 * being read while it has {@code maxInFlight} requests unanswered or its outbound buffer is above the
 * high water mark. Without TLS, one-time secrets, administrative answers and archival enrollments are refused
 * (TLS_REQUIRED) unless {@code binary.allowSecretsInClear} is on.
 */
public final class BinaryServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BinaryServer.class);
  private static final CmpFrameEncoder ENCODER = new CmpFrameEncoder();

  private final Channel channel;

  private BinaryServer(Channel channel) {
    this.channel = channel;
  }

  /** The binary listener with the connection limits {@code limits}. */
  public static BinaryServer start(NodeSettings.Binary cfg, NodeSettings.Connections limits, CmpResponder responder,
      ExecutorService workers, EventLoopGroup boss, EventLoopGroup io, SslContext tls) throws InterruptedException {
    boolean confidential = tls != null || cfg.allowSecretsInClear();
    ConnectionGuard guard = new ConnectionGuard(limits.maxTotal(), limits.maxPerPeer(), limits.messageDeadline(),
        limits.minBytesPerSecond(), ch -> {
          CmpFrameDecoder d = ch.pipeline().get(CmpFrameDecoder.class);
          return d == null ? 0 : d.pendingBytes();
        });
    FrameBudget frames = new FrameBudget(limits.maxBufferedBytes());
    ServerBootstrap b = new ServerBootstrap().group(boss, io).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast("guard", guard);
            if (tls != null) {
              ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast("idle", new IdleStateHandler(cfg.idleTimeout().toSeconds(), 0, 0, TimeUnit.SECONDS));
            ch.pipeline().addLast("frames", new CmpFrameDecoder(cfg.maxFrameBytes(), frames));
            ch.pipeline().addLast("encoder", ENCODER);
            ch.pipeline().addLast("cmp", new FrameHandler(responder, workers, cfg.maxInFlight(), confidential));
          }
        });
    Channel ch = b.bind(cfg.host(), cfg.port()).sync().channel();
    return new BinaryServer(ch);
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** The remote address of a connection without its port (what the failure budgets and the audit use). */
  static String peer(ChannelHandlerContext ctx) {
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return String.valueOf(ctx.channel().remoteAddress());
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
  }

  /** The business handler of one connection. */
  static final class FrameHandler extends SimpleChannelInboundHandler<CmpFrame> {
    private final CmpResponder responder;
    private final ExecutorService workers;
    private final int maxInFlight;
    private final boolean confidential;
    private int inFlight; // touched on the channel's event loop only
    private X509CertificateHolder clientCert;

    FrameHandler(CmpResponder responder, ExecutorService workers, int maxInFlight, boolean confidential) {
      this.responder = responder;
      this.workers = workers;
      this.maxInFlight = maxInFlight;
      this.confidential = confidential;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent hs && hs.isSuccess()) {
        ConnectionGuard.complete(ctx.channel()); // the handshake is whole; the first frame gets its own deadline
        clientCert = TlsSupport.peerCertificate(ctx.pipeline().get(SslHandler.class));
      } else if (evt instanceof IdleStateEvent) {
        CmpFrameDecoder decoder = ctx.pipeline().get(CmpFrameDecoder.class);
        int pending = decoder == null ? 0 : decoder.pendingBytes();
        if (pending > 0) {
          fail(ctx, 0, ErrorCode.BAD_MESSAGE, "truncated frame: " + pending + " bytes of an incomplete frame, then "
              + "silence");
        } else if (inFlight == 0) {
          ctx.close();
        }
      } else {
        super.userEventTriggered(ctx, evt);
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, CmpFrame frame) {
      ConnectionGuard.complete(ctx.channel());
      inFlight++;
      if (inFlight >= maxInFlight) {
        ctx.channel().config().setAutoRead(false);
      }
      X509CertificateHolder tlsCert = clientCert;
      try {
        // the worker reads, checks and signs; an issuance's answer is then written when its commit completes,
        // with no worker waiting for the disk (keyarc.workers bounds the CPU work in flight, not the requests)
        workers.execute(() -> responder.handleAsync(frame.message(), tlsCert, peer(ctx), confidential, workers)
            .whenComplete((answer, failure) -> {
              if (failure != null) { // an Error the node cannot answer: the connection goes
                LOG.error("no answer for a request on {}", ctx.channel().remoteAddress(), failure);
                ctx.close();
                ctx.channel().eventLoop().execute(() -> answered(ctx));
                return;
              }
              ctx.writeAndFlush(new CmpFrame(frame.requestId(), answer)).addListener(f -> answered(ctx));
            }));
      } catch (RejectedExecutionException e) {
        ctx.writeAndFlush(new CmpFrame(frame.requestId(), responder.transportError(ErrorCode.NODE_UNAVAILABLE,
            "the node is shutting down"))).addListener(f -> answered(ctx));
      }
    }

    private void answered(ChannelHandlerContext ctx) {
      // listeners run on the event loop
      inFlight--;
      if (!ctx.channel().config().isAutoRead() && inFlight < maxInFlight && ctx.channel().isWritable()) {
        ctx.channel().config().setAutoRead(true);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
      boolean writable = ctx.channel().isWritable();
      ctx.channel().config().setAutoRead(writable && inFlight < maxInFlight);
      super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof CmpFrameException e) {
        fail(ctx, e.requestId(), e.code(), e.getMessage());
        return;
      }
      LOG.debug("connection {} closed after: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }

    /** Answers a transport error on request id {@code id} (0 = unknown) and closes the connection. */
    private void fail(ChannelHandlerContext ctx, long id, ErrorCode code, String message) {
      LOG.info("closing {}: {}", ctx.channel().remoteAddress(), message);
      ctx.channel().config().setAutoRead(false);
      workers.execute(() -> ctx.writeAndFlush(new CmpFrame(id, responder.transportError(code, message)))
          .addListener(io.netty.channel.ChannelFutureListener.CLOSE));
    }
  }
}
