package org.keyarc.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.card;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;

/**
 * The PKCS#11 calls each role makes, recorded by OpenSC's pkcs11-spy between keyarc and SoftHSM2, and compared with
 * the lists in docs/hsm.md (so that a new call, or one the docs name and keyarc no longer makes, fails here). The CA
 * role: ca init, the node serving, an archival, getkey. The card role: an agent's recoverkey step. The function
 * and, for the operations that take one, the mechanism.
 */
class Pkcs11CallsE2eTest {
  static final Path SPY = Path.of("/usr/lib/x86_64-linux-gnu/pkcs11-spy.so");
  /** softhsm-config/pkcs11-v2-shim.c, built here: in front of the spy (see there why), $KEYARC_SHIM_TARGET. */
  static Path shim;
  static Path caLog;

  @BeforeAll
  static void setUp() throws Exception {
    assertTrue(Files.isReadable(SPY), SPY + " is missing: install the Debian package 'opensc'");
    shim = Path.of("target", "pkcs11-v2-shim.so").toAbsolutePath();
    Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", shim.toString(),
        Path.of("..", "softhsm-config", "pkcs11-v2-shim.c").toString(), "-ldl").redirectErrorStream(true).start();
    String ccOut = new String(cc.getInputStream().readAllBytes());
    assertEquals(0, cc.waitFor(), "cc (Debian's gcc) builds the shim: " + ccOut);
    caLog = Path.of(System.getenv("PKCS11SPY_OUTPUT"));
    Files.deleteIfExists(caLog);
    RecoveryCliE2eTest.caHsmOf = hsm -> List.of("hsm:", "  module: " + shim, "  token: " + hsm.label("ca"),
        "  pinFile: " + hsm.pinFile("ca"));
    try {
      RecoveryCliE2eTest.start();
    } finally {
      RecoveryCliE2eTest.caHsmOf = null;
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
  }

  /** "C_SignInit CKM_ECDSA" and "C_Login" lines: each function the log shows, with its mechanism where it has one. */
  static TreeSet<String> calls(Path log) throws Exception {
    TreeSet<String> calls = new TreeSet<>();
    String text = Files.readString(log);
    Matcher call = Pattern.compile("(?m)^\\d+: (C_\\w+)$").matcher(text);
    int[] starts = call.results().mapToInt(r -> r.start()).toArray();
    call.reset();
    int i = 0;
    while (call.find()) {
      int end = i + 1 < starts.length ? starts[i + 1] : text.length();
      String body = text.substring(call.end(), end);
      Matcher mech = Pattern.compile("pMechanism->type\\s*=\\s*(\\S+)").matcher(body);
      Matcher hash = Pattern.compile("pMechanism->pParameter->hashAlg\\s*=\\s*(\\S+)").matcher(body);
      calls.add(call.group(1) + (mech.find() ? " " + mech.group(1) + (hash.find() ? " " + hash.group(1) : "") : ""));
      i++;
    }
    return calls;
  }

  /** The list under the heading {@code ### heading} of docs/hsm.md: its lines that start with "- `". */
  static TreeSet<String> documented(String heading) throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "hsm.md"));
    int at = doc.indexOf("### " + heading + "\n");
    assertTrue(at >= 0, "docs/hsm.md has no heading '### " + heading + "'");
    int end = doc.indexOf("\n#", at + 4);
    TreeSet<String> listed = new TreeSet<>();
    for (String line : doc.substring(at, end < 0 ? doc.length() : end).split("\n")) {
      if (line.startsWith("- `")) {
        listed.add(line.substring(3, line.indexOf('`', 3)));
      }
    }
    return listed;
  }

  @Test
  void eachRoleMakesTheCallsDocsHsmMdLists() throws Exception {
    ok(cat(RecoveryCliE2eTest.asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    String serial = RecoveryCliE2eTest.archiveUser("CN=Spied Upon", "rsa2048", "spied");
    Path blob = RecoveryCliE2eTest.home.resolve("spied.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    Path cardLog = caLog.resolveSibling("pkcs11-spy-card.log");
    Files.deleteIfExists(cardLog);
    String[] step = cat(card("kra1"), "recoverkey", blob.toString(), "--next",
        RecoveryCliE2eTest.home.resolve("spied.step1").toString());
    step[List.of(step).indexOf("--module") + 1] = shim.toString(); // the spy, in front of the same SoftHSM2 library
    Run r = RecoveryCliE2eTest.subprocess(Map.of("PKCS11SPY", SoftHsmFixture.library().toString(),
        "PKCS11SPY_OUTPUT", cardLog.toString()), step);
    assertEquals(0, r.exit(), r.out());

    TreeSet<String> ca = calls(caLog);
    TreeSet<String> card = calls(cardLog);
    assertEquals(documented("The CA token"), ca, "the CA role's PKCS#11 calls (docs/hsm.md), as recorded: "
        + String.join("\n", ca));
    assertEquals(documented("A recovery agent's card"), card, "the card role's PKCS#11 calls (docs/hsm.md), as "
        + "recorded: " + String.join("\n", card));
  }
}
