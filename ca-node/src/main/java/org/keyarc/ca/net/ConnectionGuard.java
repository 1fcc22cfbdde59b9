package org.keyarc.ca.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connection hygiene for one listener, first in every pipeline: at most {@code maxTotal} connections and
 * {@code maxPerPeer} from one address (a connection over either is closed at once), and a deadline for each whole
 * message — from its first byte to the complete frame or HTTP request — so that a client trickling a byte a
 * second cannot hold a connection and its buffer (the idle timeout alone only closes silent ones), and a minimum
 * transfer rate within it: a message still unfinished after {@value #RATE_WINDOW_SECONDS} s must have brought
 * {@code minBytesPerSecond} on average over each {@value #RATE_WINDOW_SECONDS} s since its first byte, so that many
 * slow small messages are not each held until the deadline.
 */
@ChannelHandler.Sharable
final class ConnectionGuard extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);
  /** The window the minimum transfer rate is judged over: long enough for a stall on a real link. */
  static final int RATE_WINDOW_SECONDS = 5;
  private static final AttributeKey<Message> MESSAGE = AttributeKey.valueOf("keyarc.message");
  private static final AttributeKey<ConnectionGuard> GUARD = AttributeKey.valueOf("keyarc.guard");
  private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("keyarc.counted");

  private final int maxTotal;
  private final int maxPerPeer;
  private final Duration deadline;
  private final int minBytesPerSecond;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perPeer = new ConcurrentHashMap<>();

  private final java.util.function.ToIntFunction<Channel> buffered;

  /**
   * {@code buffered}: the bytes of a next message the listener's decoder already holds on a channel (read in the
   * same chunk as the end of the previous one), so that its clocks start at once, not at its next bytes.
   */
  ConnectionGuard(int maxTotal, int maxPerPeer, Duration deadline, int minBytesPerSecond,
      java.util.function.ToIntFunction<Channel> buffered) {
    this.maxTotal = maxTotal;
    this.maxPerPeer = maxPerPeer;
    this.deadline = deadline;
    this.minBytesPerSecond = minBytesPerSecond;
    this.buffered = buffered;
  }

  /** The message being read: its deadline, its rate check, and the bytes it brought in the current window. */
  private static final class Message {
    ScheduledFuture<?> deadline;
    ScheduledFuture<?> rate;
    long windowBytes;

    void cancel() {
      deadline.cancel(false);
      if (rate != null) {
        rate.cancel(false);
      }
    }
  }

  /**
   * A message has begun on {@code ch} (an HTTP request's head was decoded, say): its clocks run from now, unless
   * they already do. Call on the channel's event loop.
   */
  static void started(Channel ch) {
    ConnectionGuard g = ch.attr(GUARD).get();
    if (g != null && ch.attr(MESSAGE).get() == null) {
      g.start(ch);
    }
  }

  /** The message being read on {@code ch} is complete: its deadline and rate no longer apply. */
  static void complete(Channel ch) {
    Message m = ch.attr(MESSAGE).getAndSet(null);
    if (m != null) {
      m.cancel();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    String peer = peer(ctx.channel());
    int all = total.incrementAndGet();
    int mine = perPeer.computeIfAbsent(peer, p -> new AtomicInteger()).incrementAndGet();
    ctx.channel().attr(COUNTED).set(true);
    ctx.channel().attr(GUARD).set(this);
    if (all > maxTotal || mine > maxPerPeer) {
      LOG.warn("connection from {} refused: {} connections in all (at most {}), {} from it (at most {})", peer, all,
          maxTotal, mine, maxPerPeer);
      ctx.close();
      return;
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    complete(ctx.channel());
    if (Boolean.TRUE.equals(ctx.channel().attr(COUNTED).getAndSet(false))) {
      total.decrementAndGet();
      String peer = peer(ctx.channel());
      AtomicInteger n = perPeer.get(peer);
      if (n != null && n.decrementAndGet() <= 0) {
        perPeer.remove(peer, n);
      }
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf b && b.isReadable()) {
      Message m = ctx.channel().attr(MESSAGE).get();
      if (m == null) {
        m = start(ctx.channel());
      }
      m.windowBytes += b.readableBytes();
    }
    super.channelRead(ctx, msg);
    // the read may have finished one message and begun the next, which the decoder now holds
    if (ctx.channel().isActive() && ctx.channel().attr(MESSAGE).get() == null
        && buffered.applyAsInt(ctx.channel()) > 0) {
      start(ctx.channel());
    }
  }

  /**
   * Starts the clocks of a message whose first bytes just arrived (on the channel's event loop). During a TLS
   * handshake only the deadline applies: the client waits on the node for most of it and sends little.
   */
  private Message start(Channel ch) {
    Message m = new Message();
    m.deadline = ch.eventLoop().schedule(() -> {
      LOG.info("connection from {} closed: a message took longer than {} s to arrive", peer(ch), deadline.toSeconds());
      ch.close();
    }, deadline.toMillis(), TimeUnit.MILLISECONDS);
    io.netty.handler.ssl.SslHandler tls = ch.pipeline().get(io.netty.handler.ssl.SslHandler.class);
    boolean handshaking = tls != null && !tls.handshakeFuture().isDone();
    if (minBytesPerSecond > 0 && !handshaking) {
      long least = (long) minBytesPerSecond * RATE_WINDOW_SECONDS;
      m.rate = ch.eventLoop().scheduleAtFixedRate(() -> {
        if (m.windowBytes < least) {
          LOG.info("connection from {} closed: a message came at {} bytes/s, less than the {} bytes/s required",
              peer(ch), m.windowBytes / RATE_WINDOW_SECONDS, minBytesPerSecond);
          ch.close();
        }
        m.windowBytes = 0;
      }, RATE_WINDOW_SECONDS, RATE_WINDOW_SECONDS, TimeUnit.SECONDS);
    }
    ch.attr(MESSAGE).set(m);
    return m;
  }

  private static String peer(Channel ch) {
    if (ch.remoteAddress() instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return String.valueOf(ch.remoteAddress());
  }
}
