package org.keyarc.ca.net;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.keyarc.protocol.frame.FrameBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the listener's buffer budget, just before the aggregator: a request whose body may be over
 * {@link FrameBudget#SMALL} bytes (its Content-Length, or the body limit when it has none) takes that much from
 * the shared {@link FrameBudget} until the request is whole or the connection ends. A request over the budget is
 * answered 503 with Retry-After and the connection closed, before any of its body is buffered.
 */
final class HttpBodyBudget extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(HttpBodyBudget.class);
  private final FrameBudget budget;
  private final int maxBody;
  private long reserved;
  private boolean refused;

  HttpBodyBudget(FrameBudget budget, int maxBody) {
    this.budget = budget;
    this.maxBody = maxBody;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest) {
      ConnectionGuard.started(ctx.channel()); // a pipelined request read with the previous one gets its clocks too
    }
    if (msg instanceof HttpRequest req && !req.decoderResult().isFailure()) {
      long length = HttpUtil.getContentLength(req, -1L);
      long need = length < 0 ? (HttpUtil.isTransferEncodingChunked(req) ? maxBody : 0) : Math.min(length, maxBody);
      if (need > FrameBudget.SMALL) {
        if (!budget.reserve(need)) {
          refused = true;
          ReferenceCountUtil.release(msg);
          LOG.info("request from {} refused: {} bytes of unfinished large bodies held (at most {})",
              ctx.channel().remoteAddress(), budget.used(), budget.capacity());
          byte[] body = ("the node is buffering too many unfinished large requests; try again later\n")
              .getBytes(StandardCharsets.UTF_8);
          FullHttpResponse resp = HttpServer.response(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain", body);
          resp.headers().set(HttpHeaderNames.RETRY_AFTER, "5");
          ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
          return;
        }
        reserved = need;
      }
    }
    boolean last = msg instanceof LastHttpContent;
    ctx.fireChannelRead(msg);
    if (last) {
      release(); // the aggregator holds the whole request now and hands it on; its bytes are the handler's
    }
  }

  private void release() {
    if (reserved != 0) {
      budget.release(reserved);
      reserved = 0;
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    release();
    super.channelInactive(ctx);
  }
}
