package org.keyarc.cli;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.NssDb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.card;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.file;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;

/**
 * The CA on a second module besides SoftHSM2, one nobody here wrote: NSS softoken (its database under
 * {@code target/}, C_Initialize arguments from {@code hsm.initArgs}), with RSA-OAEP SHA-256 for the exchange key and
 * RFC 5649 as NSS offers it (0x210B, the wrap retried with a larger buffer). The agents stay on SoftHSM2 cards. The CA key, CMP, the agents' enrollment,
 * archival of an RSA key, getkey and the recovery with two cards into a PKCS#12 that OpenSSL checks all run as on
 * SoftHSM2; an EC key, which NSS 3.87 cannot unwrap, is refused with the reason.
 */
class NssCaE2eTest {
  static NssDb nss;

  @BeforeAll
  static void setUp() throws Exception {
    nss = NssDb.create();
    RecoveryCliE2eTest.caHsm = List.of("hsm:", "  module: " + NssDb.LIBRARY, "  token: " + NssDb.TOKEN,
        "  pinFile: " + nss.pinFile(), "  initArgs: \"" + nss.initArgs() + "\"");
    // the agents' envelopes with OAEP SHA-256 too: their SoftHSM2 cards open them only with --raw-rsa-oaep
    RecoveryCliE2eTest.caSettings = List.of("  oaepHash: SHA-256");
    try {
      RecoveryCliE2eTest.start();
    } finally {
      RecoveryCliE2eTest.caHsm = null;
      RecoveryCliE2eTest.caSettings = List.of();
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
  }

  @Test
  void anRsaKeyArchivedByACaOnNssIsRecoveredWithTwoCards() throws Exception {
    Run keys = keyarc("hsm", "keys", "--module", NssDb.LIBRARY.toString(), "--init-args", nss.initArgs(),
        "--token", NssDb.TOKEN, "--pin-file", nss.pinFile().toString());
    assertEquals(0, keys.exit(), keys.err());
    assertTrue(keys.out().contains("ca-signing") && keys.out().contains("ca-exchange-"), keys.out());
    ok(cat(RecoveryCliE2eTest.asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    // the client encrypts to the exchange key with OAEP SHA-256, which NSS unwraps (SoftHSM2 could not); the
    // node wraps to the agents with OAEP SHA-256 too (ca.oaepHash)
    // the exchange certificate lists OAEP SHA-256 first (NSS unwrapped with it when the key was made), so the
    // client chooses it by itself
    assertEquals(org.keyarc.hsm.OaepHash.SHA256, org.keyarc.protocol.OaepCapabilities.preferred(
        RecoveryCliE2eTest.node.services().keys().exchanges().get(0).cert()));
    String serial = RecoveryCliE2eTest.archiveUser("CN=Nina Nss", "rsa2048", "nina");
    assertTrue(RecoveryCliE2eTest.lastArchival.contains("RSA-OAEP SHA-256"), RecoveryCliE2eTest.lastArchival);
    Path blob = RecoveryCliE2eTest.home.resolve("nina.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    Path step = RecoveryCliE2eTest.home.resolve("nina.step1");
    // SoftHSM2 has no OAEP with SHA-256: the card's refusal, with the way out
    Run refused = keyarc(cat(card("kra1"), "recoverkey", blob.toString(), "--next", step.toString()));
    assertEquals(14, refused.exit(), refused.err());
    assertTrue(refused.err().contains("RSA-OAEP with SHA-256 is not supported by token")
        && refused.err().contains("a card may decrypt it with --raw-rsa-oaep"), refused.err());
    ok(cat(card("kra1"), "recoverkey", blob.toString(), "--next", step.toString(), "--raw-rsa-oaep"));
    Path p12 = RecoveryCliE2eTest.home.resolve("nina.p12");
    Path pw = file("nina.pw", "nss-recovered-Passw0rd");
    Run last = ok(cat(card("kra2"), "recoverkey", step.toString(), "--out", p12.toString(), "--password-file",
        pw.toString(), "--raw-rsa-oaep"));
    assertTrue(last.out().contains("key           recovered and checked"), last.out());
    RecoveryCliE2eTest.assertPkcs12MatchesCertificate(p12, pw, "nina");
  }

  @Test
  void anEcKeyIsRefusedWithTheReason() throws Exception {
    String[] s = RecoveryCliE2eTest.secret("ExchangeUserKeyArc", "CN=Ed Ec", "ed");
    Run r = keyarc("enroll", "--archive", "--node", RecoveryCliE2eTest.url, "--ref", s[0], "--secret-file", s[1],
        "--key-type", "p256", "--out-key", RecoveryCliE2eTest.home.resolve("ed.key").toString(), "--out-cert",
        RecoveryCliE2eTest.home.resolve("ed.crt").toString());
    assertEquals(38, r.exit(), r.out() + r.err());
    assertTrue(r.err().contains("cannot unwrap EC private keys (C_UnwrapKey: CKR_TEMPLATE_INCOMPLETE), so it archives "
        + "RSA keys only"), r.err());
    assertTrue(!java.nio.file.Files.exists(RecoveryCliE2eTest.home.resolve("ed.key")), "no key file left behind");
  }
}
