package org.keyarc.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes keyarc binary frames into {@link CmpFrame}s. The length field is checked against the limit
 * before any body byte is buffered, so a peer cannot make the decoder hold more than
 * {@code maxFrameLength} bytes; a frame over the limit or with a bad header raises a
 * {@link CmpFrameException} and the decoder discards everything after it.
 */
public class CmpFrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameLength;
  private boolean failed;

  /** @param maxFrameLength the largest length field accepted (header + message), at least 1 KiB */
  public CmpFrameDecoder(int maxFrameLength) {
    if (maxFrameLength < 1024) {
      throw new IllegalArgumentException("maxFrameLength must be at least 1024, not " + maxFrameLength);
    }
    this.maxFrameLength = maxFrameLength;
  }

  public int maxFrameLength() {
    return maxFrameLength;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < 4) {
      return;
    }
    long length = in.getUnsignedInt(in.readerIndex());
    if (length > maxFrameLength) {
      fail(in, new CmpFrameException("frame of " + length + " bytes is over the limit of " + maxFrameLength,
          0, true));
    }
    if (length < CmpFrame.HEADER_LENGTH) {
      fail(in, new CmpFrameException("frame length " + length + " is shorter than the " + CmpFrame.HEADER_LENGTH
          + "-byte header", 0, false));
    }
    if (in.readableBytes() < 4 + length) {
      return;
    }
    int start = in.readerIndex() + 4;
    int version = in.getUnsignedByte(start);
    int type = in.getUnsignedByte(start + 1);
    long requestId = in.getLong(start + 4);
    if (version != CmpFrame.VERSION) {
      fail(in, new CmpFrameException("frame version " + version + " is not supported (this node speaks "
          + CmpFrame.VERSION + ")", requestId, false));
    }
    if (type != CmpFrame.TYPE_PKI_MESSAGE) {
      fail(in, new CmpFrameException("frame type " + type + " is unknown", requestId, false));
    }
    in.skipBytes(4 + CmpFrame.HEADER_LENGTH);
    byte[] message = new byte[(int) length - CmpFrame.HEADER_LENGTH];
    in.readBytes(message);
    out.add(new CmpFrame(requestId, message));
  }

  private void fail(ByteBuf in, CmpFrameException e) {
    failed = true;
    in.skipBytes(in.readableBytes());
    throw e;
  }

  /** Bytes of an incomplete frame still buffered (a cut-off frame when the peer goes quiet). */
  public int pendingBytes() {
    return internalBuffer().readableBytes();
  }
}
