package org.keyarc.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Unfinished large frames on several connections share one budget, and every way a frame ends gives it back. */
class FrameBudgetTest {
  private static final int LARGE = 200_000;

  /** The header of a frame of {@code length} bytes and its first {@code some} body bytes. */
  private static ByteBuf start(int length, int some) {
    ByteBuf b = Unpooled.buffer();
    b.writeInt(length).writeByte(CmpFrame.VERSION).writeByte(CmpFrame.TYPE_PKI_MESSAGE).writeShort(0).writeLong(7);
    b.writeZero(some);
    return b;
  }

  @Test
  void aSecondLargeFrameOverTheBudgetIsRefusedAndEveryEndGivesTheBudgetBack() {
    FrameBudget budget = new FrameBudget(LARGE + LARGE / 2);
    EmbeddedChannel first = new EmbeddedChannel(new CmpFrameDecoder(1 << 20, budget));
    first.writeInbound(start(LARGE, 1000));
    assertEquals(LARGE, budget.used(), "an unfinished large frame holds its announced length");

    EmbeddedChannel second = new EmbeddedChannel(new CmpFrameDecoder(1 << 20, budget));
    CmpFrameException busy = assertThrows(CmpFrameException.class, () -> second.writeInbound(start(LARGE, 1000)));
    assertEquals(ErrorCode.NODE_BUSY, busy.code());
    assertEquals(LARGE, budget.used(), "the refused frame took nothing");

    EmbeddedChannel small = new EmbeddedChannel(new CmpFrameDecoder(1 << 20, budget));
    small.writeInbound(start(FrameBudget.SMALL, 100));
    assertEquals(LARGE, budget.used(), "a small frame needs no budget, even while it is spent");

    // the first frame completes: its budget comes back
    first.writeInbound(Unpooled.wrappedBuffer(new byte[LARGE - CmpFrame.HEADER_LENGTH - 1000]));
    CmpFrame done = first.readInbound();
    assertEquals(LARGE - CmpFrame.HEADER_LENGTH, done.message().length);
    assertEquals(0, budget.used());

    // a connection that ends with a frame unfinished gives it back too
    EmbeddedChannel cut = new EmbeddedChannel(new CmpFrameDecoder(1 << 20, budget));
    cut.writeInbound(start(LARGE, 10));
    assertEquals(LARGE, budget.used());
    cut.finishAndReleaseAll();
    assertEquals(0, budget.used(), "closing the connection released the frame's budget");
    second.finishAndReleaseAll();
    small.finishAndReleaseAll();
  }

  @Test
  void aBudgetBelowOneLargeFrameIsAConfigurationMistake() {
    assertThrows(IllegalArgumentException.class, () -> new FrameBudget(FrameBudget.SMALL - 1));
  }
}
