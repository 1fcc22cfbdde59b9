package org.keyarc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.RecoveryCliE2eTest.asAda;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.file;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * Recovery agents on cards that behave as OpenSC's PIV driver and ykcs11 are documented to (issue 15), through
 * {@code softhsm-config/piv-like-module.c} in front of SoftHSM2: every card is labelled PIV_II, the module makes
 * no key pairs, a key's attributes are read-only and certificates cannot be stored. The agent's key is made beside
 * keyarc as yubico-piv-tool makes it in slot 9d (RSA-2048, no label, CKA_ID 03), with pkcs11-tool on the SoftHSM2
 * token. Every card command runs in a fresh process.
 */
class PivLikeCardE2eTest {
  static Path module;
  static Map<String, String> serials = new java.util.HashMap<>();

  @BeforeAll
  static void setUp() throws Exception {
    module = Path.of("target", "piv-like-module.so").toAbsolutePath();
    Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-I/usr/include/p11-kit-1", "-o", module.toString(),
        Path.of("..", "softhsm-config", "piv-like-module.c").toString(), "-ldl").redirectErrorStream(true).start();
    String ccOut = new String(cc.getInputStream().readAllBytes());
    assertEquals(0, cc.waitFor(), "cc builds the PIV-like module (gcc, libp11-kit-dev): " + ccOut);
    RecoveryCliE2eTest.start("piv1", "piv2", "yk1");
    try (var t = RecoveryCliE2eTest.hsm.open("yk1", 1)) {
      serials.put("yk1", t.serial().trim()); // keyarc makes its key, with the management key
    }
    for (String name : List.of("piv1", "piv2")) {
      try (var t = RecoveryCliE2eTest.hsm.open(name, 1)) {
        serials.put(name, t.serial().trim());
      }
      // slot 9d as yubico-piv-tool -a generate -s 9d makes it: RSA-2048, no label, ykcs11's id 03
      ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", SoftHsmFixture.library().toString(),
          "--token-label", RecoveryCliE2eTest.hsm.label(name), "--login", "--pin", "env:CARD_PIN", "--keypairgen",
          "--key-type", "rsa:2048", "--id", "03", "--usage-sign", "--usage-decrypt").redirectErrorStream(true);
      pb.environment().put("CARD_PIN", new String(RecoveryCliE2eTest.hsm.pin(name)));
      Process p = pb.start();
      String made = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), made);
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
  }

  /** The card through the PIV-like module, named by label and serial (every card is labelled PIV_II). */
  static String[] piv(String name) {
    return new String[] {"--module", module.toString(), "--token", "pkcs11:token=PIV_II;serial=" + serials.get(name),
        "--pin-file", RecoveryCliE2eTest.hsm.pinFile(name).toString()};
  }

  static Run card(String name, String... args) throws Exception {
    return RecoveryCliE2eTest.subprocess(Map.of("KEYARC_PIV_TARGET", SoftHsmFixture.library().toString()),
        cat(piv(name), args));
  }

  /** YubiKey 5's default PIV management key (3DES), as ykcs11 takes it for C_Login(CKU_SO). */
  static final String MANAGEMENT_KEY = "010203040506070801020304050607080102030405060708";

  /** The card through the module in ykcs11 mode, with {@code args} after the card's options. */
  static Run ykcs11(String name, String... args) throws Exception {
    return RecoveryCliE2eTest.subprocess(Map.of("KEYARC_PIV_TARGET", SoftHsmFixture.library().toString(),
        "KEYARC_PIV_MODE", "ykcs11", "KEYARC_PIV_MGMT_KEY", MANAGEMENT_KEY, "KEYARC_PIV_TARGET_PIN",
        new String(RecoveryCliE2eTest.hsm.pin(name))), cat(new String[] {"--module", module.toString(), "--token",
        "pkcs11:token=YubiKey%20PIV;serial=" + serials.get(name), "--pin-file",
        RecoveryCliE2eTest.hsm.pinFile(name).toString()}, args));
  }

  /** The private keys on SoftHSM2 token {@code name}, as pkcs11-tool lists them (beside keyarc). */
  static String keysOn(String name) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", SoftHsmFixture.library().toString(),
        "--token-label", RecoveryCliE2eTest.hsm.label(name), "--login", "--pin", "env:CARD_PIN", "--list-objects",
        "--type", "privkey").redirectErrorStream(true);
    pb.environment().put("CARD_PIN", new String(RecoveryCliE2eTest.hsm.pin(name)));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  @Test
  void aYkcs11CardMakesTheAgentKeyInSlot9dWithTheManagementKey() throws Exception {
    String[] node = secretFor("yk1");
    String[] request = cat(node, "--subject", "CN=Agent yk1");
    // no management key: told what to give, nothing made
    Run noSo = ykcs11("yk1", cat(request, "kra", "init-card"));
    assertEquals(13, noSo.exit(), noSo.out());
    assertTrue(noSo.out().contains("makes key pairs only for its security officer") && noSo.out().contains(
        "--so-pin-file") && noSo.out().contains("nothing was made"), noSo.out());
    Path mgmt = file("yk1.mgmt", MANAGEMENT_KEY);
    Path wrong = file("yk1.wrong", "0102030405060708010203040506070801020304050607FF");
    // keyarc's random 16-byte CKA_ID is no PIV slot
    Run randomId = ykcs11("yk1", cat(cat(request, "--so-pin-file", mgmt.toString()), "kra", "init-card"));
    assertEquals(36, randomId.exit(), randomId.out());
    assertTrue(randomId.out().contains("a random 16-byte CKA_ID") && randomId.out().contains("--slot 9d"),
        randomId.out());
    // a wrong management key
    Run badKey = ykcs11("yk1", cat(cat(request, "--slot", "9d", "--so-pin-file", wrong.toString()), "kra",
        "init-card"));
    assertEquals(11, badKey.exit(), badKey.out());
    assertTrue(badKey.out().contains("CKR_PIN_INCORRECT"), badKey.out());
    assertFalse(keysOn("yk1").contains("Private Key Object"), "nothing was made: " + keysOn("yk1"));
    Run badSlot = ykcs11("yk1", cat(cat(request, "--slot", "9f", "--so-pin-file", mgmt.toString()), "kra",
        "init-card"));
    assertEquals(36, badSlot.exit(), badSlot.out());

    // the management key from a file: the key is made in slot 9d (CKA_ID 03), signs its request as the user
    Run pending = ykcs11("yk1", cat(cat(request, "--slot", "9d", "--so-pin-file", mgmt.toString()), "kra",
        "init-card"));
    assertEquals(0, pending.exit(), pending.out());
    assertTrue(pending.out().contains("RSA-2048 made on card 'YubiKey PIV'") && pending.out().contains("pending"),
        pending.out());
    String keys = keysOn("yk1");
    assertTrue(keys.contains("ID:         03"), keys);
    String serial = approve("yk1");
    // the certificate is stored on the card with the management key, next to the key
    Run got = ykcs11("yk1", cat(cat(node, "--resume", "--so-pin-file", mgmt.toString()), "kra", "init-card"));
    assertEquals(0, got.exit(), got.out());
    assertTrue(got.out().contains("serial " + serial) && got.out().contains("stored on card 'YubiKey PIV'")
        && !got.out().contains("not stored"), got.out());
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("card          'YubiKey PIV' serial " + serials.get("yk1"))
        && added.out().contains("possession    signature"), added.out());
    ok(cat(asAda, "kra", "remove", "--serial", serial)); // the other tests count the agents they add
  }

  static String[] secretFor(String name) throws Exception {
    String[] s = RecoveryCliE2eTest.secret(asAda, "KeyRecoveryAgent", "CN=Agent " + name, name);
    return new String[] {"--node", RecoveryCliE2eTest.url, "--ref", s[0], "--secret-file", s[1]};
  }

  static String approve(String name) throws Exception {
    Run list = ok(cat(asMax, "request", "list"));
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Agent " + name).matcher(list.out());
    assertTrue(id.find(), list.out());
    Run approved = ok(cat(asMax, "request", "approve", id.group(1)));
    return approved.out().replaceAll("(?s).*certificate ([0-9a-f]+) for.*", "$1").trim();
  }

  @Test
  void cardsThatShareALabelAreToldApartBySerialNeverPicked() throws Exception {
    Run ambiguous = RecoveryCliE2eTest.subprocess(Map.of("KEYARC_PIV_TARGET", SoftHsmFixture.library().toString()),
        "hsm", "info", "--role", "card", "--module", module.toString(), "--token", "PIV_II", "--pin-file",
        RecoveryCliE2eTest.hsm.pinFile("piv1").toString());
    assertEquals(36, ambiguous.exit(), ambiguous.out());
    assertTrue(ambiguous.out().contains("tokens are labelled 'PIV_II'") && ambiguous.out().contains(serials.get("piv1"))
        && ambiguous.out().contains(serials.get("piv2")) && ambiguous.out().contains("pkcs11:token=PIV_II;serial="),
        ambiguous.out());
    Run one = card("piv1", "hsm", "info", "--role", "card");
    assertEquals(0, one.exit(), one.out());
    assertTrue(one.out().contains(serials.get("piv1")), one.out());
  }

  @Test
  void anAgentOnAPivCardAdoptsTheKeyItsOwnToolMadeAndRecovers() throws Exception {
    String[] node = secretFor("piv1");
    // the module makes no keys: the way out, and nothing made
    Run made = card("piv1", cat(cat(node, "--subject", "CN=Agent piv1"), "kra", "init-card"));
    assertEquals(14, made.exit(), made.out());
    assertTrue(made.out().contains("makes no key pairs through PKCS#11") && made.out().contains("--adopt --key-id 03")
        && made.out().contains("nothing was made"), made.out());

    // adopted by its id; the card keeps CKA_SIGN (read-only attributes), which the agent is told
    Run pending = card("piv1", cat(cat(node, "--subject", "CN=Agent piv1", "--adopt", "--key-id", "03"), "kra",
        "init-card"));
    assertEquals(0, pending.exit(), pending.out());
    assertTrue(pending.out().contains("RSA key adopted from card 'PIV_II': pkcs11:token=PIV_II;id=%03")
        && pending.out().contains("does not let CKA_SIGN be turned off") && pending.out().contains(
        "CKR_ATTRIBUTE_READ_ONLY") && pending.out().contains("pending"), pending.out());
    // the pending request is the card's by its serial, not by the label every PIV card shares
    assertTrue(Files.exists(RecoveryCliE2eTest.home.resolve("kra-PIV_II-" + serials.get("piv1") + ".pending")));
    String serial = approve("piv1");

    // the certificate cannot be stored on the card: kept in a file instead
    Run noStore = card("piv1", cat(cat(node, "--resume"), "kra", "init-card"));
    assertEquals(13, noStore.exit(), noStore.out()); // CKR_USER_NOT_LOGGED_IN: it needs the management key
    assertTrue(noStore.out().contains("does not take the certificate") && noStore.out().contains("--out-cert"),
        noStore.out());
    Path certFile = RecoveryCliE2eTest.home.resolve("piv1-agent.crt");
    Run got = card("piv1", cat(cat(node, "--resume", "--out-cert", certFile.toString()), "kra", "init-card"));
    assertEquals(0, got.exit(), got.out());
    assertTrue(got.out().contains("serial " + serial) && got.out().contains("not stored on card 'PIV_II'"),
        got.out());
    assertTrue(Files.exists(certFile));
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("card          'PIV_II' serial " + serials.get("piv1"))
        && added.out().contains("possession    signature"), added.out());

    // an archived key, recovered with the PIV card alone: the key is found by the certificate's public key
    // to every agent (the other test may have added one more)
    int agents = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ok(cat(asAda, "kra", "list", "--json")).out()).path("recoveryAgents")
        .size();
    ok(cat(asAda, "kra", "policy", "--agents", String.valueOf(agents), "--threshold", "1"));
    String user = RecoveryCliE2eTest.archiveUser("CN=Paula Piv", "rsa2048", "paula");
    Path blob = RecoveryCliE2eTest.home.resolve("paula.blob");
    ok(cat(asMax, "getkey", "--serial", user, "--out", blob.toString()));
    Path p12 = RecoveryCliE2eTest.home.resolve("paula.p12");
    Path pw = file("paula.pw", "piv-recovered-Passw0rd");
    Run last = card("piv1", "recoverkey", blob.toString(), "--out", p12.toString(), "--password-file", pw.toString());
    assertEquals(0, last.exit(), last.out());
    assertTrue(last.out().contains("key           recovered and checked"), last.out());
    RecoveryCliE2eTest.assertPkcs12MatchesCertificate(p12, pw, "paula");
  }

  @Test
  void aPivKeyThatMustNeverSignProvesPossessionByDecryption() throws Exception {
    String[] node = secretFor("piv2");
    Run pending = card("piv2", cat(cat(node, "--subject", "CN=Agent piv2", "--adopt", "--key-id", "03",
        "--never-sign"), "kra", "init-card"));
    assertEquals(0, pending.exit(), pending.out());
    assertTrue(pending.out().contains("it signs nothing: possession is proven by decryption") && pending.out()
        .contains("pending"), pending.out());
    String serial = approve("piv2");
    Path certFile = RecoveryCliE2eTest.home.resolve("piv2-agent.crt");
    Run got = card("piv2", cat(cat(node, "--resume", "--out-cert", certFile.toString()), "kra", "init-card"));
    assertEquals(0, got.exit(), got.out());
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("possession    decryption"), added.out());
    assertFalse(added.out().contains("WARNING"), added.out());
  }
}
