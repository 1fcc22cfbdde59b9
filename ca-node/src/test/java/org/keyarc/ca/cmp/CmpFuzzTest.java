package org.keyarc.ca.cmp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;

/**
 * A mutation fuzzer for the CMP responder, driven by JUnit with a fixed seed (reproducible): seeds of every
 * request kind keyarc answers, mutated by bit flips, byte changes, insertions, deletions, truncation, length-byte
 * tweaks, splices and deep nesting. Every answer must be a PKIMessage (the responder never throws or dies), and
 * none may be an internal error (57): the fuzz campaign's findings are malformed messages, not server faults.
 * {@code -Dkeyarc.fuzz.iterations=N} (default 1,500 in CI) and {@code -Dkeyarc.fuzz.seed=S} run it longer.
 */
class CmpFuzzTest {
  private static UnitCa ca;
  private static CmpResponder responder;
  private static final List<byte[]> SEEDS = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    ca = UnitCa.create();
    responder = ca.responder();
    SEEDS.addAll(CmpMutations.seeds(ca.services));
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  @Test
  void mutatedRequestsAreAnsweredAndNeverAnInternalError() throws Exception {
    int iterations = Integer.getInteger("keyarc.fuzz.iterations", 1500);
    long seed = Long.getLong("keyarc.fuzz.seed", 20261201L);
    Random r = new Random(seed);
    int errors = 0;
    int sameContent = 0;
    byte[] enrollSeed = CmpMutations.der(SEEDS.get(1));
    for (int i = 0; i < iterations; i++) {
      byte[] input = SEEDS.get(r.nextInt(SEEDS.size()));
      int rounds = 1 + r.nextInt(3);
      for (int k = 0; k < rounds; k++) {
        input = CmpMutations.mutate(input, r, SEEDS);
      }
      // a mutation that only re-encodes the enrollment (a long-form length, say) is the same request: the MAC covers
      // the DER of its content, so it may rightly get the one certificate its secret allows
      sameContent += java.util.Arrays.equals(CmpMutations.der(input), enrollSeed) ? 1 : 0;
      byte[] out = responder.handle(input, null, "198.51.100." + (i % 200), true);
      PKIMessage answer = PKIMessage.getInstance(out); // an answer, always
      if (answer.getBody().getType() == PKIBody.TYPE_ERROR) {
        errors++;
        String text = KeyarcCmp.text(ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo());
        assertTrue(KeyarcCmp.codeOf(text) != ErrorCode.INTERNAL, "seed " + seed + " iteration " + i
            + " gave an internal error: " + text + "; input " + java.util.HexFormat.of().formatHex(input));
      }
    }
    assertTrue(errors > iterations / 2, "mutations are mostly refused (" + errors + " of " + iterations + ")");
    int issued = ca.services.store().inTransaction(tx -> tx.certificates().list(null, "CN=Fuzz Seed", 10)).size();
    assertTrue(issued <= Math.min(sameContent, 1), issued + " certificates: no mutated request got one, except a mere "
        + "re-encoding of the seed (" + sameContent + " sent), and that at most once");
  }

}
