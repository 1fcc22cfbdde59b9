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
  private final FrameBudget budget;
  private boolean failed;
  /** Bytes the frame being read holds of {@link #budget} (0 for a small one). */
  private long reserved;

  /** @param maxFrameLength the largest length field accepted (header + message), at least 1 KiB */
  public CmpFrameDecoder(int maxFrameLength) {
    this(maxFrameLength, FrameBudget.unlimited());
  }

  /**
   * @param maxFrameLength the largest length field accepted (header + message), at least 1 KiB
   * @param budget shared by the listener's connections: an unfinished frame over {@link FrameBudget#SMALL} bytes
   *     takes its announced length from it until the frame is complete or the connection ends
   */
  public CmpFrameDecoder(int maxFrameLength, FrameBudget budget) {
    if (maxFrameLength < 1024) {
      throw new IllegalArgumentException("maxFrameLength must be at least 1024, not " + maxFrameLength);
    }
    this.maxFrameLength = maxFrameLength;
    this.budget = budget;
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
      if (length > FrameBudget.SMALL && reserved == 0) {
        if (!budget.reserve(length)) {
          fail(in, new CmpFrameException("the node already holds " + budget.used() + " bytes of unfinished large "
              + "frames (at most " + budget.capacity() + "); a frame of " + length + " bytes must wait: try again "
              + "later", 0, false, org.keyarc.protocol.ErrorCode.NODE_BUSY));
        }
        reserved = length;
      }
      return;
    }
    releaseBudget();
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

  private void releaseBudget() {
    if (reserved != 0) {
      budget.release(reserved);
      reserved = 0;
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    releaseBudget(); // the connection ended (or the decoder left the pipeline) with a frame unfinished
  }

  private void fail(ByteBuf in, CmpFrameException e) {
    releaseBudget();
    failed = true;
    in.skipBytes(in.readableBytes());
    throw e;
  }

  /** Bytes of an incomplete frame still buffered (a cut-off frame when the peer goes quiet). */
  public int pendingBytes() {
    return internalBuffer().readableBytes();
  }
}
