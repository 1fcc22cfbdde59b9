package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user sees from {@code keyarc hsm ...} against real SoftHSM2 tokens: output, one-line errors, exit codes. */
class HsmCommandTest {
  private static SoftHsmFixture hsm;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("ca");
    try (HsmToken t = hsm.open("ca", 1)) {
      t.call(s -> s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.CA_SIGNING, "ca-signing"));
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  private record Run(int exit, String out, String err) {}

  private static Run keyarc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Keyarc.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static String module() {
    return hsm.module().loadedLibrary().toString();
  }

  @Test
  void infoShowsTokensKeysMechanismsAndTheProbe() throws Exception {
    Run r = keyarc("hsm", "info", "--module", module(), "--token", hsm.label("ca"),
        "--pin-file", hsm.pinFile("ca").toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("Token '" + hsm.label("ca") + "' (logged in, PIN from --pin-file"), r.out());
    assertTrue(r.out().matches("(?s).*private EC\\s+ca-signing\\s+id [0-9a-f]{32}.*"), r.out());
    assertTrue(r.out().contains("CKM_AES_KEY_WRAP_PAD       AES key wrap with padding (archival)     yes"), r.out());
    // SoftHSM2 2.6.1: OAEP with SHA-1 only, AES-CBC-PAD cannot wrap private keys; each step said on its own
    assertTrue(r.out().contains("RSA-OAEP SHA-1 key unwrap                    yes"), r.out());
    assertTrue(r.out().matches("(?s).*RSA-OAEP SHA-256 key unwrap\\s+no.*"), r.out());
    assertTrue(r.out().matches("(?s).*AES-CBC-PAD wrap of a private key\\s+no.*"), r.out());
    assertTrue(r.out().matches("(?s).*CKA_SIGN=false stops signing\\s+yes.*") && !r.out().contains("note (card)"),
        "SoftHSM2 enforces CKA_SIGN=false: " + r.out());
    assertTrue(!r.out().contains("as a token object"), "SoftHSM2 makes session key pairs: " + r.out());
    assertTrue(r.out().contains("verdict (ca): this token can be the CA token, with the exchange keys on it; set "
        + "ca.oaepHash: sha1"), r.out());
    assertTrue(r.out().contains("verdict (archival): this token can hold the exchange keys (hsm.archivalToken, or "
        + "the CA token itself); set ca.oaepHash: sha1"), r.out());
    assertTrue(r.out().contains("verdict (card): this token can be a recovery agent's card; the CA's ca.oaepHash "
        + "must be sha1"), r.out());
    Run card = keyarc("hsm", "info", "--role", "card", "--module", module(), "--token", hsm.label("ca"),
        "--pin-file", hsm.pinFile("ca").toString());
    assertTrue(card.out().contains("verdict (card)") && !card.out().contains("verdict (ca)")
        && !card.out().contains("verdict (archival)"), card.out());
    Run archival = keyarc("hsm", "info", "--role", "archival", "--module", module(), "--token", hsm.label("ca"),
        "--pin-file", hsm.pinFile("ca").toString());
    assertTrue(archival.out().contains("verdict (archival)") && !archival.out().contains("verdict (ca)")
        && !archival.out().contains("verdict (card)"), archival.out());
    Run bad = keyarc("hsm", "info", "--role", "printer", "--module", module(), "--token", hsm.label("ca"));
    assertEquals(36, bad.exit(), bad.err());
    assertTrue(bad.err().contains("--role is ca, archival or card, not 'printer'"), bad.err());
  }

  @Test
  void keysShowTheSecurityAttributes() throws Exception {
    Run r = keyarc("hsm", "keys", "--module", module(), "--token", "pkcs11:token=" + hsm.label("ca"),
        "--pin-file", hsm.pinFile("ca").toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("sensitive, non-extractable, sign"), r.out());
  }

  @Test
  void withoutAPinInfoShowsPublicObjectsOnly() throws Exception {
    Run r = keyarc("hsm", "info", "--module", module(), "--token", hsm.label("ca"));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("(not logged in: no PIN source; private keys are hidden)"), r.out());
    assertTrue(r.out().matches("(?s).*public  EC\\s+ca-signing.*"), r.out());
    assertTrue(!r.out().contains("private EC"), r.out());
  }

  @Test
  void anAbsentTokenIsOneLineAndExitCode10() throws Exception {
    Run r = keyarc("hsm", "keys", "--module", module(), "--token", "kra-9", "--pin-file",
        hsm.pinFile("ca").toString());
    assertEquals(10, r.exit());
    assertEquals("keyarc: error 10 (token not present): token 'kra-9' is not present", r.err().strip());
  }

  @Test
  void aWrongPinIsOneLineAndExitCode11() throws Exception {
    java.nio.file.Path wrong = java.nio.file.Files.createTempFile("wrong", ".pin");
    java.nio.file.Files.writeString(wrong, "000000\n");
    Run r = keyarc("hsm", "keys", "--module", module(), "--token", hsm.label("ca"), "--pin-file", wrong.toString());
    assertEquals(11, r.exit());
    assertEquals("keyarc: error 11 (PIN incorrect): PIN incorrect for token '" + hsm.label("ca")
        + "' (C_Login: CKR_PIN_INCORRECT 0x000000A0)", r.err().strip());
  }

  @Test
  void aPinOnTheCommandLineIsNotAnOption() throws Exception {
    Run r = keyarc("hsm", "keys", "--module", module(), "--pin", "1234");
    assertEquals(2, r.exit());
    assertTrue(r.err().startsWith("Unknown options: '--pin', '1234'"), r.err());
  }

  /**
   * A token that signs but cannot wrap private keys (a Luna partition with private-key wrapping off, say): the CA
   * verdict sends the exchange keys to an archival token, and the archival verdict says what it lacks.
   */
  @Test
  void aTokenThatSignsButCannotWrapIsACaTokenBesideAnArchivalOne() {
    java.util.List<org.keyarc.hsm.HsmSession.ProbeStep> steps = new java.util.ArrayList<>();
    for (String ok : new String[] {org.keyarc.hsm.HsmSession.ProbeStep.RSA_PAIR,
        org.keyarc.hsm.HsmSession.ProbeStep.RSA_SIGNING_PAIR, org.keyarc.hsm.HsmSession.ProbeStep.EC_PAIR,
        org.keyarc.hsm.HsmSession.ProbeStep.AES_KEY, org.keyarc.hsm.HsmSession.ProbeStep.RSA_SIGNING,
        org.keyarc.hsm.HsmSession.ProbeStep.OAEP_SHA256_UNWRAP}) {
      steps.add(new org.keyarc.hsm.HsmSession.ProbeStep(ok, true, ""));
    }
    steps.add(new org.keyarc.hsm.HsmSession.ProbeStep(org.keyarc.hsm.HsmSession.ProbeStep.KWP_WRAP, false,
        "CKR_KEY_NOT_WRAPPABLE"));
    java.io.StringWriter w = new java.io.StringWriter();
    HsmCommand.printProbe(new java.io.PrintWriter(w, true), steps, null, 0x210BL);
    String out = w.toString();
    assertTrue(out.contains("verdict (ca): this token can be the CA token only beside an archival token "
        + "(hsm.archivalToken, one that 'hsm info --role archival' accepts): it lacks RFC 5649 key wrap of private "
        + "keys"), out);
    assertTrue(out.contains("verdict (archival): this token cannot hold the exchange keys: it lacks RFC 5649 key "
        + "wrap of private keys"), out);
  }
}
