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

  /**
   * A second identity plants a look-alike: a public data object of the same label and application (which a session
   * without the PIN could make too), with OpenSC's pkcs11-tool. keyarc reads only private token objects. (A forged
   * record in the fallback's form fails its MAC: NssSoftokenTest.)
   */
  @Test
  void publicLookAlikesAreNotRead() throws Exception {
    try (HsmToken token = hsm.open("data", 1)) {
      token.call(s -> {
        s.writeData("planted-test", new byte[] {9, 9});
        return null;
      });
    }
    java.nio.file.Path value = java.nio.file.Files.createTempFile(java.nio.file.Path.of("target"), "planted", ".bin");
    java.nio.file.Files.write(value, new byte[] {6, 6, 6});
    run("--write-object", value.toString(), "--type", "data", "--label", "planted-test", "--application-label",
        "keyarc");
    try (HsmToken token = hsm.open("data", 1)) {
      java.util.List<byte[]> read = token.call(s -> s.readData("planted-test"));
      assertEquals(1, read.size(), "only keyarc's own private object");
      assertArrayEquals(new byte[] {9, 9}, read.get(0));
    }
  }

  private static void run(String... args) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("pkcs11-tool", "--module",
        SoftHsmFixture.library().toString(), "--token-label", hsm.label("data"), "--login", "--pin", "env:CARD_PIN"));
    cmd.addAll(java.util.List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("CARD_PIN", java.nio.file.Files.readString(hsm.pinFile("data")).trim());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), String.join(" ", args) + ": " + out);
  }
}
