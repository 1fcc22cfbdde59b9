package org.keyarc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.node.CaNode;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * The CA's life through the command line with {@code hsm.archivalToken} set: init, renew (and its --csr), rollover
 * and a rollover --csr refused for a root all find the exchange keys on the archival token, and every exchange key
 * they make is there and not on the CA token. Two real SoftHSM2 tokens.
 */
class ArchivalTokenCliE2eTest {
  static SoftHsmFixture hsm;
  static Path home;
  static Path config;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("ca", "archive");
    Files.createDirectories(Path.of("target"));
    home = Files.createTempDirectory(Path.of("target"), "cli-archival-").toAbsolutePath();
    System.setProperty("keyarc.home", home.toString());
    config = home.resolve("ca.yaml");
    Files.writeString(config, String.join("\n",
        "dataDir: " + home.resolve("data"),
        "hsm:",
        "  module: " + SoftHsmFixture.library(),
        "  token: " + hsm.label("ca"),
        "  pinFile: " + hsm.pinFile("ca"),
        "  archivalToken: " + hsm.label("archive"),
        "  archivalPinFile: " + hsm.pinFile("archive"),
        "binary:",
        "  port: 0",
        "http:",
        "  port: 0",
        "ca:",
        "  subject: CN=Archival CLI CA, O=keyarc",
        ""));
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
    System.clearProperty("keyarc.home");
  }

  private static Run ok(String... args) {
    Run r = keyarc(args);
    assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.err());
    return r;
  }

  /** The labels of the exchange keys the store names; each is on the archival token, none on the CA token. */
  private static Set<String> exchangesOnTheArchivalTokenOnly() throws Exception {
    try (CaNode.Resources r = CaNode.open(NodeConfig.load(config))) {
      CaKeyring keys = r.keyring();
      Set<String> labels = keys.exchanges().stream().map(CaKeyring.Exchange::label).collect(Collectors.toSet());
      HsmToken archival = r.archival();
      HsmToken ca = r.token();
      for (String label : labels) {
        assertNotNull(archival.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, label)), label + " on the archival token");
        assertNull(ca.call(s -> s.findKeyOrNull(KeyClass.PRIVATE, label)), label + " not on the CA token");
      }
      return labels;
    }
  }

  @Test
  void initRenewAndRolloverKeepTheExchangeKeysOnTheArchivalToken() throws Exception {
    ok("ca", "init", "--config", config.toString());
    Set<String> first = exchangesOnTheArchivalTokenOnly();
    assertEquals(1, first.size());

    Run renewed = ok("ca", "renew", "--config", config.toString());
    assertTrue(renewed.out().contains("CN=Archival CLI CA"), renewed.out());
    Path csr = home.resolve("renew.csr");
    ok("ca", "renew", "--config", config.toString(), "--csr", csr.toString());
    assertTrue(Files.readString(csr).contains("BEGIN CERTIFICATE REQUEST"));
    assertEquals(first, exchangesOnTheArchivalTokenOnly(), "a renewal keeps the exchange key");

    // a root rolls over without --csr: the refusal says so, not that a key is missing
    Run viaCsr = keyarc("ca", "rollover", "--config", config.toString(), "--csr", home.resolve("roll.csr")
        .toString());
    assertEquals(30, viaCsr.exit(), viaCsr.err());
    assertTrue(viaCsr.err().contains("self-signed root"), viaCsr.err());

    ok("ca", "rollover", "--config", config.toString());
    Set<String> after = exchangesOnTheArchivalTokenOnly();
    assertTrue(after.containsAll(first) && after.size() == 2, "the new CA key's exchange key beside the old: "
        + after);

    try (CaNode node = CaNode.start(NodeConfig.load(config))) {
      List<CaKeyring.Exchange> served = node.services().keys().exchanges();
      assertEquals(2, served.size());
      assertEquals(hsm.label("archive"), node.services().keys().exchangeToken().label());
    }
  }
}
