package org.keyarc.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Encodes {@link CmpFrame}s: length, version, type, flags, request id, message. Stateless and sharable. */
@Sharable
public class CmpFrameEncoder extends MessageToByteEncoder<CmpFrame> {
  @Override
  protected void encode(ChannelHandlerContext ctx, CmpFrame frame, ByteBuf out) {
    out.writeInt(CmpFrame.HEADER_LENGTH + frame.message().length);
    out.writeByte(CmpFrame.VERSION);
    out.writeByte(CmpFrame.TYPE_PKI_MESSAGE);
    out.writeShort(0);
    out.writeLong(frame.requestId());
    out.writeBytes(frame.message());
  }
}
