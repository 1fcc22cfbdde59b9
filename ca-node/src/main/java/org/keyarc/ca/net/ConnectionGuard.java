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
 * second cannot hold a connection and its buffer (the idle timeout alone only closes silent ones).
 */
@ChannelHandler.Sharable
final class ConnectionGuard extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final AttributeKey<ScheduledFuture<?>> DEADLINE = AttributeKey.valueOf("keyarc.deadline");
  private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("keyarc.counted");

  private final int maxTotal;
  private final int maxPerPeer;
  private final Duration deadline;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perPeer = new ConcurrentHashMap<>();

  ConnectionGuard(int maxTotal, int maxPerPeer, Duration deadline) {
    this.maxTotal = maxTotal;
    this.maxPerPeer = maxPerPeer;
    this.deadline = deadline;
  }

  /** The message being read on {@code ch} is complete: its deadline no longer applies. */
  static void complete(Channel ch) {
    ScheduledFuture<?> f = ch.attr(DEADLINE).getAndSet(null);
    if (f != null) {
      f.cancel(false);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    String peer = peer(ctx.channel());
    int all = total.incrementAndGet();
    int mine = perPeer.computeIfAbsent(peer, p -> new AtomicInteger()).incrementAndGet();
    ctx.channel().attr(COUNTED).set(true);
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
    if (msg instanceof ByteBuf b && b.isReadable() && ctx.channel().attr(DEADLINE).get() == null) {
      ScheduledFuture<?> f = ctx.executor().schedule(() -> {
        LOG.info("connection from {} closed: a message took longer than {} s to arrive", peer(ctx.channel()),
            deadline.toSeconds());
        ctx.close();
      }, deadline.toMillis(), TimeUnit.MILLISECONDS);
      ctx.channel().attr(DEADLINE).set(f);
    }
    super.channelRead(ctx, msg);
  }

  private static String peer(Channel ch) {
    if (ch.remoteAddress() instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return String.valueOf(ch.remoteAddress());
  }
}
