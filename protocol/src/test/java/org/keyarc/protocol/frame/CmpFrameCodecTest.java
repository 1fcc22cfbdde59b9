package org.keyarc.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

/** The frame codec on an EmbeddedChannel: byte layout, reassembly, limits, garbage. */
class CmpFrameCodecTest {

  @Test
  void encodesTheDocumentedLayout() {
    EmbeddedChannel ch = new EmbeddedChannel(new CmpFrameEncoder());
    assertTrue(ch.writeOutbound(new CmpFrame(7, new byte[] {0x30, 0x00})));
    ByteBuf out = ch.readOutbound();
    byte[] bytes = new byte[out.readableBytes()];
    out.readBytes(bytes);
    out.release();
    assertArrayEquals(new byte[] {0, 0, 0, 14, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x30, 0x00}, bytes);
    assertFalse(ch.finish());
  }

  @Test
  void reassemblesFramesSplitAnywhereAndKeepsIds() {
    EmbeddedChannel ch = new EmbeddedChannel(new CmpFrameDecoder(1024));
    ByteBuf two = Unpooled.buffer();
    new Enc().write(two, new CmpFrame(-1L, new byte[] {1, 2, 3})); // id 2^64-1: unsigned on the wire
    new Enc().write(two, new CmpFrame(42, new byte[0]));
    while (two.isReadable()) {
      ch.writeInbound(two.readRetainedSlice(1)); // one byte at a time
    }
    two.release();
    CmpFrame a = ch.readInbound();
    CmpFrame b = ch.readInbound();
    assertEquals(-1L, a.requestId());
    assertArrayEquals(new byte[] {1, 2, 3}, a.message());
    assertEquals(42, b.requestId());
    assertEquals(0, b.message().length);
    assertNull(ch.readInbound());
    assertFalse(ch.finish());
  }

  @Test
  void refusesALengthOverTheLimitBeforeBufferingTheBody() {
    EmbeddedChannel ch = new EmbeddedChannel(new CmpFrameDecoder(1024));
    ByteBuf big = Unpooled.buffer().writeInt(1025).writeBytes(new byte[100]);
    CmpFrameException e = assertThrows(CmpFrameException.class, () -> ch.writeInbound(big));
    assertTrue(e.tooLarge());
    assertEquals(ErrorCode.MESSAGE_TOO_LARGE, e.code());
    assertEquals("frame of 1025 bytes is over the limit of 1024", e.getMessage());
    // everything after a framing error is discarded, never buffered
    ch.writeInbound(Unpooled.buffer().writeBytes(new byte[5000]));
    assertNull(ch.readInbound());
    assertFalse(ch.finish());
  }

  @Test
  void refusesBadVersionTypeAndShortLength() {
    EmbeddedChannel v = new EmbeddedChannel(new CmpFrameDecoder(1024));
    CmpFrameException ve = assertThrows(CmpFrameException.class, () -> v.writeInbound(Unpooled.buffer()
        .writeInt(12).writeByte(2).writeByte(0).writeShort(0).writeLong(9)));
    assertEquals(9, ve.requestId());
    assertFalse(ve.tooLarge());
    assertEquals(ErrorCode.BAD_MESSAGE, ve.code());
    assertFalse(v.finish());
    EmbeddedChannel t = new EmbeddedChannel(new CmpFrameDecoder(1024));
    assertThrows(CmpFrameException.class, () -> t.writeInbound(Unpooled.buffer()
        .writeInt(12).writeByte(1).writeByte(5).writeShort(0).writeLong(9)));
    assertFalse(t.finish());
    EmbeddedChannel s = new EmbeddedChannel(new CmpFrameDecoder(1024));
    CmpFrameException se = assertThrows(CmpFrameException.class, () -> s.writeInbound(Unpooled.buffer()
        .writeInt(3).writeBytes(new byte[3])));
    assertEquals("frame length 3 is shorter than the 12-byte header", se.getMessage());
    assertFalse(s.finish());
  }

  @Test
  void limitsAreCheckedArguments() {
    assertThrows(IllegalArgumentException.class, () -> new CmpFrameDecoder(100));
  }

  /** The encoder's logic, callable directly. */
  private static final class Enc extends CmpFrameEncoder {
    void write(ByteBuf out, CmpFrame f) {
      encode(null, f, out);
    }
  }
}
