package org.keyarc.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The binary frame decoder under random bytes and mutated frames (fixed seed; {@code -Dkeyarc.fuzz.iterations}):
 * it yields frames or refuses with a CmpFrameException, never another exception, never buffers past its limit,
 * and leaks nothing (the test JVM runs with paranoid leak detection).
 */
class CmpFrameFuzzTest {
  @Test
  void randomAndMutatedInputYieldsFramesOrAFrameErrorOnly() {
    int iterations = Integer.getInteger("keyarc.fuzz.iterations", 3000);
    Random r = new Random(Long.getLong("keyarc.fuzz.seed", 20261201L));
    int frames = 0;
    int refused = 0;
    for (int i = 0; i < iterations; i++) {
      EmbeddedChannel ch = new EmbeddedChannel(new CmpFrameDecoder(4096));
      byte[] input;
      if (r.nextBoolean()) {
        input = new byte[r.nextInt(64)];
        r.nextBytes(input);
      } else { // a valid frame, then mutated
        EmbeddedChannel enc = new EmbeddedChannel(new CmpFrameEncoder());
        byte[] payload = new byte[r.nextInt(200)];
        r.nextBytes(payload);
        enc.writeOutbound(new CmpFrame(r.nextLong(), payload));
        ByteBuf out = enc.readOutbound();
        input = new byte[out.readableBytes()];
        out.readBytes(input);
        out.release();
        assertFalse(enc.finish());
        if (input.length > 0) {
          input[r.nextInt(input.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      try {
        // fed in random pieces, as a network delivers it
        int pos = 0;
        while (pos < input.length) {
          int n = 1 + r.nextInt(input.length - pos);
          ch.writeInbound(Unpooled.wrappedBuffer(input, pos, n));
          pos += n;
        }
        Object o;
        while ((o = ch.readInbound()) != null) {
          frames++;
          assertTrue(((CmpFrame) o).message().length <= 4096, "never past the limit");
        }
      } catch (DecoderException e) {
        assertTrue(e instanceof CmpFrameException || e.getCause() instanceof CmpFrameException,
            "only frame errors: " + e);
        refused++;
      }
      ch.finishAndReleaseAll();
    }
    assertTrue(frames > 0 && refused > 0, frames + " frames, " + refused + " refused");
  }
}
