package org.keyarc.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.Tpm2Cards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.RecoveryCliE2eTest.asAda;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.file;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;
import static org.keyarc.cli.RecoveryCliE2eTest.secret;

/**
 * The archival and recovery story with recovery agents on cards of a PKCS#11 module nobody here wrote:
 * tpm2-pkcs11 on a software TPM (swtpm, tpm2-abrmd). The agents enroll their cards with {@code kra init-card},
 * the SoftHSM2 agents of the fixture are removed, a user's key is archived to the two TPM cards alone, and both
 * recover it into a PKCS#12 that OpenSSL opens. Every card command runs as a fresh keyarc process, as an agent
 * runs it, with the module's environment.
 */
class Tpm2CardsE2eTest {
  static Tpm2Cards tpm;
  static List<String> serials = new ArrayList<>();
  static Run enrolling;

  @BeforeAll
  static void setUp() throws Exception {
    tpm = Tpm2Cards.startOrSkip("tpm2-1", "tpm2-2", "tpm2-3", "tpm2-4", "tpm2-5");
    RecoveryCliE2eTest.start();
    for (String name : List.of("tpm2-1", "tpm2-2")) {
      serials.add(addAgent(name));
    }
    for (String old : RecoveryCliE2eTest.agentSerials) {
      ok(cat(asAda, "kra", "remove", "--serial", old));
    }
    ok(cat(asAda, "kra", "policy", "--agents", "2", "--threshold", "2"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
    if (tpm != null) {
      tpm.close();
    }
  }

  static String[] card(String label) {
    return new String[] {"--module", tpm.module().toString(), "--token", label, "--pin-file",
        tpm.pinFile(label).toString()};
  }

  /** keyarc with a TPM card, in a child process that has the module's environment. */
  static Run onCard(String label, String... args) throws Exception {
    return RecoveryCliE2eTest.subprocess(tpm.environment(), cat(card(label), args));
  }

  static String addAgent(String name) throws Exception {
    String[] s = secret(asAda, "KeyRecoveryAgent", "CN=Agent " + name, name);
    Run pending = onCard(name, "kra", "init-card", "--node", RecoveryCliE2eTest.url, "--ref", s[0],
        "--secret-file", s[1], "--subject", "CN=Agent " + name);
    assertEquals(0, pending.exit(), pending.out());
    assertTrue(pending.out().contains("pending"), pending.out());
    if (enrolling == null) {
      enrolling = pending;
    }
    Run list = ok(cat(asMax, "request", "list"));
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Agent " + name).matcher(list.out());
    assertTrue(id.find(), list.out());
    ok(cat(asMax, "request", "approve", id.group(1)));
    Run got = onCard(name, "kra", "init-card", "--node", RecoveryCliE2eTest.url, "--ref", s[0], "--secret-file",
        s[1], "--resume");
    assertEquals(0, got.exit(), got.out());
    assertTrue(got.out().contains("stored on card '" + name + "'"), got.out());
    String serial = got.out().replaceAll("(?s).*serial ([0-9a-f]+),.*", "$1");
    // the TPM decrypts OAEP with SHA-256 (the card's trial): its certificate lists it first; the CA on SoftHSM2
    // still wraps the archives' envelopes with SHA-1, which it falls back to
    assertTrue(pending.out().contains("RSA-OAEP SHA-256 decrypts"), pending.out());
    assertEquals(org.keyarc.hsm.OaepHash.SHA256, org.keyarc.protocol.OaepCapabilities.preferred(
        RecoveryCliE2eTest.issued(serial)));
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("card          '" + name + "'")
        && added.out().contains("CKA_EXTRACTABLE=false"), added.out());
    return serial;
  }

  /**
   * tpm2-pkcs11 accepts C_SetAttributeValue(CKA_SIGN=false) and reads it back false, but the key still signs:
   * init-card tries a signature afterwards and says so, rather than claiming "decrypt/unwrap only".
   */
  @Test
  void initCardSaysThatTheTpmKeyStillSigns() {
    assertTrue(enrolling.out().contains("warning: card 'tpm2-1' still signs with the agent key after CKA_SIGN was "
        + "turned off"), enrolling.out());
    assertTrue(!enrolling.out().contains("signing       switched off"), enrolling.out());
  }

  /**
   * The probe finds that tpm2-pkcs11 makes no session key pairs, tries the key init-card would make as a token
   * object instead (and destroys it), and judges the card able to serve, noting that CKA_SIGN=false is not enforced.
   */
  @Test
  void hsmInfoJudgesTheTpmTokenACardAndLeavesNothingOnIt() throws Exception {
    Run info = onCard("tpm2-2", "hsm", "info", "--role", "card");
    assertEquals(0, info.exit(), info.out());
    assertTrue(info.out().matches("(?s).*RSA-2048 key pair as a token object\\s+yes.*"), info.out());
    assertTrue(info.out().matches("(?s).*RSA-OAEP SHA-256 decryption\\s+yes.*"), info.out());
    assertTrue(info.out().matches("(?s).*CKA_SIGN=false stops signing\\s+no \\(.*does not enforce it.*"),
        info.out());
    assertTrue(info.out().contains("verdict (card): this token can be a recovery agent's card; the CA's "
        + "ca.oaepHash must be sha256 or sha1"), info.out());
    assertTrue(info.out().contains("note (card): the agent key would go on signing"), info.out());
    Run keys = onCard("tpm2-2", "hsm", "keys");
    assertEquals(0, keys.exit(), keys.out());
    assertTrue(!keys.out().contains("keyarc-probe") && keys.out().contains("kra-key"), keys.out());
  }

  /**
   * An agent who mistypes the secret: the node refuses the request after the key pair was made on the card, and
   * init-card removes it again, so the rerun with the right secret finds the card as it was (it used to say "the
   * card already holds an agent key").
   */
  @Test
  void aRefusedRequestLeavesTheCardAsItWas() throws Exception {
    String[] s = secret(asAda, "KeyRecoveryAgent", "CN=Agent tpm2-3", "tpm2-3");
    Path typo = file("tpm2-3.typo", "not-the-secret-" + System.nanoTime());
    Run refused = onCard("tpm2-3", "kra", "init-card", "--node", RecoveryCliE2eTest.url, "--ref", s[0],
        "--secret-file", typo.toString(), "--subject", "CN=Agent tpm2-3");
    assertEquals(35, refused.exit(), refused.out());
    assertTrue(refused.out().contains("the new key pair was removed, card 'tpm2-3' is as it was"), refused.out());
    Run keys = onCard("tpm2-3", "hsm", "keys");
    assertEquals(0, keys.exit(), keys.out());
    assertTrue(!keys.out().contains("kra-key"), keys.out());
    Run again = onCard("tpm2-3", "kra", "init-card", "--node", RecoveryCliE2eTest.url, "--ref", s[0],
        "--secret-file", s[1], "--subject", "CN=Agent tpm2-3");
    assertEquals(0, again.exit(), again.out());
    assertTrue(again.out().contains("pending"), again.out());
  }

  /**
   * A key made outside keyarc, as on a PIV card with ykman or yubico-piv-tool: here with OpenSC's pkcs11-tool, with no
   * label and a one-byte CKA_ID (ykcs11's convention: 03 is slot 9d). init-card --adopt takes it by its id, never by
   * label or by guess (without --key-id it lists the card's RSA keys); on --resume the certificate is found again by
   * the id, the card proves it decrypts for the certificate's key, and the certificate is stored next to it.
   */
  @Test
  void aKeyMadeOutsideKeyarcIsAdoptedByItsId() throws Exception {
    for (String id : List.of("03", "05")) {
      ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", tpm.module().toString(), "--token-label",
          "tpm2-4", "--login", "--pin", "env:CARD_PIN", "--keypairgen", "--key-type", "rsa:2048", "--id", id,
          "--usage-sign", "--usage-decrypt").redirectErrorStream(true);
      pb.environment().putAll(tpm.environment());
      pb.environment().put("CARD_PIN", java.nio.file.Files.readString(tpm.pinFile("tpm2-4")).trim());
      Process p = pb.start();
      String made = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), made);
    }
    String[] s = secret(asAda, "KeyRecoveryAgent", "CN=Agent tpm2-4", "tpm2-4");
    Run which = onCard("tpm2-4", "kra", "init-card", "--adopt", "--node", RecoveryCliE2eTest.url, "--ref", s[0],
        "--secret-file", s[1], "--subject", "CN=Agent tpm2-4");
    assertEquals(15, which.exit(), which.out());
    assertTrue(which.out().contains("name the key to adopt with --key-id: card 'tpm2-4' holds 2 RSA private keys "
        + "(ids 03, 05)"), which.out());
    // a refused request gives the card its own key back as it was: still a signing key (CKA_SIGN reads true)
    Path typo = file("tpm2-4.typo", "not-the-secret-" + System.nanoTime());
    Run refused = onCard("tpm2-4", "kra", "init-card", "--adopt", "--key-id", "05", "--node", RecoveryCliE2eTest.url,
        "--ref", s[0], "--secret-file", typo.toString(), "--subject", "CN=Agent tpm2-4");
    assertEquals(35, refused.exit(), refused.out());
    ProcessBuilder list05 = new ProcessBuilder("pkcs11-tool", "--module", tpm.module().toString(), "--token-label",
        "tpm2-4", "--login", "--pin", "env:CARD_PIN", "--list-objects", "--type", "privkey", "--id", "05")
        .redirectErrorStream(true);
    list05.environment().putAll(tpm.environment());
    list05.environment().put("CARD_PIN", java.nio.file.Files.readString(tpm.pinFile("tpm2-4")).trim());
    Process p05 = list05.start();
    String objects = new String(p05.getInputStream().readAllBytes());
    assertEquals(0, p05.waitFor(), objects);
    assertTrue(objects.matches("(?s).*Usage:[^\\n]*sign.*"), "CKA_SIGN back on: " + objects);
    Run taken = onCard("tpm2-4", "kra", "init-card", "--adopt", "--key-id", "03", "--node", RecoveryCliE2eTest.url,
        "--ref", s[0], "--secret-file", s[1], "--subject", "CN=Agent tpm2-4");
    assertEquals(0, taken.exit(), taken.out());
    assertTrue(taken.out().contains("key           RSA key adopted from card 'tpm2-4': pkcs11:token=tpm2-4;id=%03")
        && taken.out().contains("pending"), taken.out());
    Run list = ok(cat(asMax, "request", "list"));
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Agent tpm2-4").matcher(list.out());
    assertTrue(id.find(), list.out());
    ok(cat(asMax, "request", "approve", id.group(1)));
    Run got = onCard("tpm2-4", "kra", "init-card", "--node", RecoveryCliE2eTest.url, "--ref", s[0], "--secret-file",
        s[1], "--resume");
    assertEquals(0, got.exit(), got.out());
    assertTrue(got.out().contains("stored on card 'tpm2-4'"), got.out());
    // the evidence the adopted key's request carried: made on the card, never extractable
    String serial = got.out().replaceAll("(?s).*serial ([0-9a-f]+),.*", "$1");
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("card          'tpm2-4'") && added.out().contains("CKA_NEVER_EXTRACTABLE=true "
        + "CKA_LOCAL=true"), added.out());
    ok(cat(asAda, "kra", "remove", "--serial", serial)); // the other tests' policy is 2 of the first two cards
  }

  /**
   * No answer from the node: the request may have reached it, so the new key pair stays (an approved request for a
   * destroyed key would make an agent whose archives nobody can open), and the error says how to clean up.
   */
  @Test
  void anUnreachableNodeLeavesTheNewKeyOnTheCard() throws Exception {
    String[] s = secret(asAda, "KeyRecoveryAgent", "CN=Agent tpm2-5", "tpm2-5");
    Run unreachable;
    // a "node" that takes the request and hangs up without an answer
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try (java.net.Socket c = silent.accept()) {
          c.getInputStream().read(new byte[4096]);
        } catch (java.io.IOException e) {
          // the test sees what the client made of it
        }
      });
      t.start();
      unreachable = onCard("tpm2-5", "kra", "init-card", "--node", "http://127.0.0.1:" + silent.getLocalPort() + "/",
          "--ref", s[0], "--secret-file", s[1], "--subject", "CN=Agent tpm2-5");
      t.join(10_000);
    }
    assertTrue(unreachable.out().contains("key           RSA-2048 made on card 'tpm2-5'"), unreachable.out());
    assertTrue(unreachable.exit() == 51 || unreachable.exit() == 31, unreachable.out());
    assertTrue(unreachable.out().contains("the request may have reached the node, so card 'tpm2-5' keeps the new key "
        + "pair") && unreachable.out().contains("pkcs11-tool --login --delete-object --type privkey --id "),
        unreachable.out());
    Run keys = onCard("tpm2-5", "hsm", "keys");
    assertTrue(keys.out().contains("kra-key"), keys.out());
  }

  @Test
  void aKeyArchivedToTwoTpmCardsIsRecoveredWithBoth() throws Exception {
    Run list = ok(cat(asAda, "kra", "list"));
    assertTrue(list.out().contains("policy: 2 of 2 agents") && list.out().contains("CN=Agent tpm2-1")
        && list.out().contains("CN=Agent tpm2-2") && !list.out().contains("CN=Agent kra1"), list.out());
    String serial = RecoveryCliE2eTest.archiveUser("CN=Tina Tpm", "rsa2048", "tina");
    Path blob = RecoveryCliE2eTest.home.resolve("tina.blob");
    Run got = ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    assertTrue(got.out().contains("2 of 2 agents"), got.out());
    Path step = RecoveryCliE2eTest.home.resolve("tina.step1");
    Run first = onCard("tpm2-1", "recoverkey", blob.toString(), "--next", step.toString());
    assertEquals(0, first.exit(), first.out());
    assertTrue(first.out().contains("next          CN=Agent tpm2-2"), first.out());
    Path p12 = RecoveryCliE2eTest.home.resolve("tina.p12");
    Path pw = file("tina.pw", "tpm-recovered-Passw0rd");
    Run last = onCard("tpm2-2", "recoverkey", step.toString(), "--out", p12.toString(), "--password-file",
        pw.toString());
    assertEquals(0, last.exit(), last.out());
    assertTrue(last.out().contains("key           recovered and checked"), last.out());
    RecoveryCliE2eTest.assertPkcs12MatchesCertificate(p12, pw, "tina");
  }
}
