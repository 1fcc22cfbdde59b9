package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** Private token data objects: written, replaced, read back by another session and after a new login. */
class DataObjectTest {
  private static SoftHsmFixture hsm;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("data");
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  @Test
  void writeReplaceAndReadBack() throws Exception {
    try (HsmToken token = hsm.open("data", 2)) {
      assertTrue(token.call(s -> s.readData("anchor-test")).isEmpty(), "no object yet");
      token.call(s -> {
        s.writeData("anchor-test", new byte[] {1, 2, 3});
        return null;
      });
      token.call(s -> {
        s.writeData("anchor-test", new byte[] {4, 5, 6, 7});
        return null;
      });
      assertEquals(1, token.call(s -> s.readData("anchor-test")).size(), "the old value is gone");
      assertArrayEquals(new byte[] {4, 5, 6, 7}, token.call(s -> s.readData("anchor-test")).get(0));
      assertTrue(token.call(s -> s.readData("other-label")).isEmpty());
    }
    try (HsmToken again = hsm.open("data", 1)) {
      assertArrayEquals(new byte[] {4, 5, 6, 7}, again.call(s -> s.readData("anchor-test")).get(0),
          "a token object: it outlives the session and the login");
      assertEquals(0, again.call(HsmSession::countSessionObjects));
    }
  }
}
