package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.field;
import static org.keyarc.cli.CliTestSupport.keyarc;

/**
 * The seed's recovery story through the command line, offline: agent keys born on SoftHSM2 "cards",
 * Key Recovery Agent certificates approved by a manager, archival at 2-of-3 and 1-of-3, getkey by a
 * manager, recoverkey step by step with the cards, and a PKCS#12 that OpenSSL opens and whose key
 * matches the certificate; plus the refusals an agent or a manager would meet.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class RecoveryCliE2eTest {
  static SoftHsmFixture hsm;
  static Path home;
  static CaNode node;
  static String url;
  static String[] asAda;
  static String[] asMax;
  static List<String> agentSerials = new ArrayList<>();
  static Path config;
  /** The CA token's configuration lines ("hsm:" and below) for another module; null: the fixture's SoftHSM2 token. */
  static List<String> caHsm;
  /** Like {@link #caHsm}, made from the fixture's tokens (the CA token through another module in front of it). */
  static java.util.function.Function<SoftHsmFixture, List<String>> caHsmOf;
  /** More lines under "ca:" (indented two spaces), such as the agents' OAEP hash. */
  static List<String> caSettings = List.of();



  static Run ok(String... args) {
    Run r = keyarc(args);
    assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r.out() + r.err());
    return r;
  }


  static String[] cat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(b, 0, all, 0, b.length);
    System.arraycopy(a, 0, all, b.length, a.length);
    return all;
  }

  static Path file(String name, String content) throws Exception {
    Path f = home.resolve(name);
    Files.writeString(f, content + "\n");
    return f;
  }

  static String[] card(String name) {
    return new String[] {"--module", SoftHsmFixture.library().toString(), "--token", hsm.label(name), "--pin-file",
        hsm.pinFile(name).toString()};
  }

  /** A one-time secret made by the manager: {reference, secret file}. */
  static String[] secret(String template, String subject, String name) throws Exception {
    return secret(asMax, template, subject, name);
  }

  /** A one-time secret made by {@code by}: {reference, secret file}. */
  static String[] secret(String[] by, String template, String subject, String name) throws Exception {
    Run s = ok(cat(by, "secret", "create", "--template", template, "--subject", subject));
    return new String[] {field(s.out(), "reference"), file(name + ".secret", field(s.out(), "secret")).toString()};
  }

  @BeforeAll
  static void setUp() throws Exception {
    start();
  }

  /** The node, Ada (administrator), Max (manager) and agents kra1..kra3; {@code moreCards} are made, not added. */
  static void start(String... moreCards) throws Exception {
    List<String> cards = new ArrayList<>(List.of("ca", "kra1", "kra2", "kra3", "stranger"));
    cards.addAll(List.of(moreCards));
    agentSerials.clear();
    hsm = SoftHsmFixture.create(cards.toArray(new String[0]));
    Files.createDirectories(Path.of("target"));
    home = Files.createTempDirectory(Path.of("target"), "recovery-home-").toAbsolutePath();
    System.setProperty("keyarc.home", home.toString());
    List<String> lines = new ArrayList<>(List.of("dataDir: " + home.resolve("data")));
    lines.addAll(caHsm != null ? caHsm : caHsmOf != null ? caHsmOf.apply(hsm) : List.of("hsm:", "  module: "
        + SoftHsmFixture.library(),
        "  token: " + hsm.label("ca"), "  pinFile: " + hsm.pinFile("ca")));
    lines.addAll(List.of("binary:", "  port: 0", "http:", "  port: 0", "ca:", "  subject: CN=Recovery Test CA"));
    lines.addAll(caSettings);
    config = file("ca.yaml", String.join("\n", lines));
    Run init = ok("ca", "init", "--config", config.toString(), "--admin", "CN=Ada Admin");
    node = CaNode.start(NodeConfig.load(config));
    url = "tls://127.0.0.1:" + node.binaryPort();
    ok("enroll", "--node", url, "--ref", field(init.out(), "reference"), "--secret-file",
        file("ada.secret", field(init.out(), "secret")).toString(), "--out-key", home.resolve("ada.key").toString(),
        "--out-cert", home.resolve("ada.crt").toString());
    asAda = new String[] {"--node", url, "--cert", home.resolve("ada.crt").toString(), "--key",
        home.resolve("ada.key").toString()};
    Run ms = ok(cat(asAda, "secret", "create", "--template", "User", "--subject", "CN=Max Manager"));
    ok("enroll", "--node", url, "--ref", field(ms.out(), "reference"), "--secret-file",
        file("max.secret", field(ms.out(), "secret")).toString(), "--out-key", home.resolve("max.key").toString(),
        "--out-cert", home.resolve("max.crt").toString());
    ok(cat(asAda, "role", "grant", "--role", "manager", home.resolve("max.crt").toString()));
    asMax = new String[] {"--node", url, "--cert", home.resolve("max.crt").toString(), "--key",
        home.resolve("max.key").toString()};

    // three agents: key born on the card, request held (Ada made its secret), approved by Max (four eyes),
    // collected onto the card, added by Ada with the card's evidence
    for (String name : List.of("kra1", "kra2", "kra3")) {
      agentSerials.add(addAgent(name));
    }
    // each agent also has a personal certificate (the identity the node checks) and the recovery_agent role
    for (String name : List.of("kra1", "kra2", "kra3")) {
      String[] s = secret("User", "CN=Agent " + name, "id-" + name);
      ok("enroll", "--node", url, "--ref", s[0], "--secret-file", s[1], "--out-key",
          home.resolve("id-" + name + ".key").toString(), "--out-cert", home.resolve("id-" + name + ".crt").toString());
      ok(cat(asAda, "role", "grant", "--role", "recovery_agent", "--subject", "CN=Agent " + name));
    }
    try (var t = hsm.open("kra1", 1)) {
      var attrs = t.call(x -> x.attributes(x.findKey(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, "kra-key")));
      assertTrue(attrs.sensitive() && !attrs.extractable() && !attrs.sign() && attrs.decrypt(), attrs.toString());
    }
  }

  /**
   * A recovery agent on card {@code name}: key born on the card, request held (Ada made its secret), approved by Max
   * (four eyes), collected onto the card, added by Ada with the card's evidence. Its certificate serial.
   */
  static String addAgent(String name) throws Exception {
    String[] s = secret(asAda, "KeyRecoveryAgent", "CN=Agent " + name, name);
    Run pending = ok(cat(cat(card(name), "--node", url, "--ref", s[0], "--secret-file", s[1], "--subject",
        "CN=Agent " + name), "kra", "init-card"));
    assertTrue(pending.out().contains("pending"), pending.out());
    Run list = ok(cat(asMax, "request", "list"));
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Agent " + name).matcher(list.out());
    assertTrue(id.find(), list.out());
    ok(cat(asMax, "request", "approve", id.group(1)));
    Run got = ok(cat(cat(card(name), "--node", url, "--ref", s[0], "--secret-file", s[1], "--resume"), "kra",
        "init-card"));
    assertTrue(got.out().contains("stored on card '" + hsm.label(name) + "'"), got.out());
    String serial = got.out().replaceAll("(?s).*serial ([0-9a-f]+),.*", "$1");
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("requested by  secret:" + s[0] + " (one-time secret made by CN=Ada Admin)")
        && added.out().contains("approved by   CN=Max Manager") && added.out().contains("card          '"
        + hsm.label(name) + "'") && added.out().contains("CKA_EXTRACTABLE=false CKA_NEVER_EXTRACTABLE=true "
        + "CKA_LOCAL=true"), added.out());
    return serial;
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (node != null) {
      node.close();
    }
    hsm.close();
    System.clearProperty("keyarc.home");
  }

  /** What the last {@link #archiveUser} printed. */
  static String lastArchival;

  /** The certificate this CA issued with serial {@code serialHex}, from the node's store. */
  static org.bouncycastle.cert.X509CertificateHolder issued(String serialHex) throws Exception {
    var rec = node.services().store().inTransaction(tx -> tx.certificates().find(
        node.services().keys().caName().toString(), new java.math.BigInteger(serialHex, 16))).orElseThrow();
    return new org.bouncycastle.cert.X509CertificateHolder(rec.der());
  }

  /** Enrolls SUBJECT with archival; returns the certificate serial. The key file is then "lost". */
  static String archiveUser(String subject, String keyType, String name, String... moreArgs) throws Exception {
    String[] s = secret("ExchangeUserKeyArc", subject, name);
    Run r = ok(cat(moreArgs, "enroll", "--archive", "--node", url, "--ref", s[0], "--secret-file", s[1],
        "--key-type", keyType, "--out-key", home.resolve(name + ".key").toString(), "--out-cert",
        home.resolve(name + ".crt").toString()));
    Files.copy(home.resolve(name + ".key"), home.resolve(name + ".key.reference"));
    Files.delete(home.resolve(name + ".key")); // the user lost the key
    lastArchival = r.out();
    return r.out().replaceAll("(?s).*serial ([0-9a-f]+), until.*", "$1");
  }

  static Run openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new Run(p.exitValue(), out, "");
  }

  /** The PKCS#12 opens with OpenSSL, and its key's public part equals the certificate's. */
  static void assertPkcs12MatchesCertificate(Path p12, Path password, String certName) throws Exception {
    assertPkcs12MatchesCertificate(p12, password, certName, false);
  }

  /** {@code legacy}: the file is in the --pfx-compat legacy form, which OpenSSL 3 opens with -legacy. */
  static void assertPkcs12MatchesCertificate(Path p12, Path password, String certName, boolean legacy)
      throws Exception {
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p12)));
    List<String> open = new ArrayList<>(List.of("pkcs12", "-in", p12.toString(), "-passin", "file:" + password));
    if (legacy) {
      open.add("-legacy");
    }
    List<String> infoArgs = new ArrayList<>(open);
    infoArgs.addAll(List.of("-info", "-noout"));
    Run info = openssl(infoArgs.toArray(new String[0]));
    assertEquals(0, info.exit(), info.out());
    if (legacy) {
      assertTrue(info.out().contains("pbeWithSHA1And3-KeyTripleDES-CBC") && info.out().contains("MAC: sha1"),
          info.out());
    } else {
      assertTrue(info.out().contains("PBES2") && info.out().contains("AES-256-CBC") && info.out().contains("sha256"),
          info.out());
    }
    List<String> keyArgs = new ArrayList<>(open);
    keyArgs.addAll(List.of("-nocerts", "-nodes", "-out", home.resolve(certName + ".recovered.pem").toString()));
    Run key = openssl(keyArgs.toArray(new String[0]));
    assertEquals(0, key.exit(), key.out());
    Run fromKey = openssl("pkey", "-in", home.resolve(certName + ".recovered.pem").toString(), "-pubout");
    Run fromCert = openssl("x509", "-in", home.resolve(certName + ".crt").toString(), "-noout", "-pubkey");
    assertEquals(fromCert.out().trim(), fromKey.out().trim(), "the recovered key matches the certificate");
    Run original = openssl("pkey", "-in", home.resolve(certName + ".key.reference").toString(), "-pubout");
    assertEquals(original.out().trim(), fromKey.out().trim());
  }

  @Test
  void twoOfThreeRsaKeyRecoveredWithTwoCards() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    String serial = archiveUser("CN=MSEXCHANGEORG", "rsa2048", "msx");
    Path blob = home.resolve("msx.blob");
    Run byAda = keyarc(cat(asAda, "getkey", "--serial", serial, "--out", blob.toString()));
    assertEquals(34, byAda.exit(), "an administrator is not a certificate manager: " + byAda.err());
    Run got = ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    assertTrue(got.out().contains("2 of 3 agents"), got.out());

    // the first agent in the list starts; a card of no agent is refused with the agents named
    Run stranger = keyarc(cat(card("stranger"), "recoverkey", blob.toString()));
    assertEquals(15, stranger.exit(), stranger.err());
    assertTrue(stranger.err().contains("holds the key of none of this archive's recovery agents")
        && stranger.err().contains("CN=Agent kra1"), stranger.err());
    Run wrongPin = keyarc("recoverkey", blob.toString(), "--module", SoftHsmFixture.library().toString(), "--token",
        hsm.label("kra3"), "--pin-file", file("wrong.pin", "999999").toString());
    assertEquals(11, wrongPin.exit(), wrongPin.err());
    Run warned = keyarc(cat(card("kra3"), "recoverkey", blob.toString(), "--next", home.resolve("unused").toString()));
    assertTrue(warned.err().contains("warning: card '" + hsm.label("kra3") + "'"), "PIN retries shown: " + warned.err());
    Run step1 = ok(cat(card("kra1"), "recoverkey", blob.toString(), "--next", home.resolve("msx.step1").toString()));
    assertTrue(step1.out().contains("next          CN=Agent kra2") && step1.out().contains("1 more step"),
        step1.out());
    Run again = keyarc(cat(card("kra1"), "recoverkey", home.resolve("msx.step1").toString()));
    assertEquals(30, again.exit(), again.err());
    assertTrue(again.err().contains("already did a step"), again.err());
    Path p12 = home.resolve("msx.p12");
    Path pw = file("msx.pw", "recovered-Passw0rd");
    Run last = ok(cat(card("kra3"), "recoverkey", home.resolve("msx.step1").toString(), "--out", p12.toString(),
        "--password-file", pw.toString()));
    assertTrue(last.out().contains("key           recovered and checked"), last.out());
    assertPkcs12MatchesCertificate(p12, pw, "msx");
  }

  @Test
  void oneOfThreeEcKeyRecoveredWithOneCard() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "1"));
    String serial = archiveUser("CN=Edith Ec", "p256", "edith");
    Path blob = home.resolve("edith.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    Path p12 = home.resolve("edith.p12");
    Path pw = file("edith.pw", "another-Passw0rd");
    // the card is not in the reader: a clear error and no file; after reinsertion the same step works.
    // Both runs are fresh keyarc processes, as an agent would run them (a PKCS#11 module sees cards at start).
    // for an old Windows: the legacy PKCS#12 form, with a warning
    String[] step = cat(card("kra2"), "recoverkey", blob.toString(), "--out", p12.toString(), "--password-file",
        pw.toString(), "--pfx-compat", "legacy");
    Path pulled = hsm.pullCard("kra2");
    Run absent;
    try {
      absent = subprocess(step);
    } finally {
      hsm.reinsertCard(pulled);
    }
    assertEquals(10, absent.exit(), absent.out());
    assertTrue(absent.out().contains("token '" + hsm.label("kra2") + "' is not present"), absent.out());
    assertFalse(Files.exists(p12));
    Run again = subprocess(step);
    assertEquals(0, again.exit(), again.out());
    assertTrue(again.out().contains("warning: --pfx-compat legacy encrypts the key with TripleDES"), again.out());
    assertPkcs12MatchesCertificate(p12, pw, "edith", true);
  }

  /** Runs keyarc in a fresh JVM, as a person would from a shell. */
  static Run subprocess(String... args) throws Exception {
    return subprocess(java.util.Map.of(), args);
  }

  /** Runs keyarc in a fresh JVM with these environment variables added (a PKCS#11 module that reads them). */
  static Run subprocess(java.util.Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dkeyarc.home=" + home, "-cp", System.getProperty("java.class.path"), Keyarc.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    return new Run(p.exitValue(), output, "");
  }

  static String[] asAgent(String name) {
    return new String[] {"--node", url, "--cert", home.resolve("id-" + name + ".crt").toString(), "--key",
        home.resolve("id-" + name + ".key").toString()};
  }

  private static String openedId(Run opened) {
    return opened.out().replaceAll("(?s).*opened recovery (\\d+).*", "$1").trim();
  }

  @Test
  void onlineTwoOfThreeThroughTheNode() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    String serial = archiveUser("CN=Olga Online", "p256", "olga");
    Run opened = ok(cat(asMax, "recovery", "open", "--serial", serial));
    String id = opened.out().replaceAll("(?s).*opened recovery (\\d+).*", "$1").trim();
    Path outDir = Files.createDirectories(home.resolve("agent-out"));
    Path pw = file("olga.pw", "online-Passw0rd");

    // a certificate manager cannot do an agent's step, and an agent cannot fetch blobs
    Run byMax = keyarc(cat(cat(asMax, card("kra2")), "agent", "watch", "--once", "--out-dir", outDir.toString(),
        "--password-file", pw.toString(), "--approve", id));
    assertEquals(34, byMax.exit(), byMax.out() + byMax.err());
    Run agentGetkey = keyarc(cat(asAgent("kra1"), "getkey", "--serial", serial));
    assertEquals(34, agentGetkey.exit(), agentGetkey.err());
    Run both = keyarc(cat(asAda, "role", "grant", "--role", "manager", "--subject", "CN=Agent kra1"));
    assertEquals(46, both.exit(), "an agent cannot also be a manager: " + both.err());

    // without an approval the agent's card does nothing: the agent sees whose key it is and is told how to approve
    Run unapproved = ok(cat(cat(asAgent("kra1"), card("kra1")), "agent", "watch", "--once", "--out-dir",
        outDir.toString(), "--password-file", pw.toString()));
    assertTrue(unapproved.out().contains("recovery " + id + "  key of CN=Olga Online") && unapproved.out().contains(
        "not approved: run again with --approve " + id), unapproved.out());
    Run first = ok(cat(cat(asAgent("kra1"), card("kra1")), "agent", "watch", "--once", "--out-dir", outDir.toString(),
        "--password-file", pw.toString(), "--approve", id));
    assertTrue(first.out().contains("recovery " + id + "  step done by CN=Agent kra1"), first.out());
    Run again = ok(cat(cat(asAgent("kra1"), card("kra1")), "agent", "watch", "--once", "--out-dir", outDir.toString(),
        "--password-file", pw.toString(), "--approve", id));
    assertTrue(again.out().contains("not for this card now"), again.out());
    Run last = ok(cat(cat(asAgent("kra2"), card("kra2")), "agent", "watch", "--once", "--out-dir", outDir.toString(),
        "--password-file", pw.toString(), "--approve", id));
    assertTrue(last.out().contains("last step done by CN=Agent kra2"), last.out());
    Files.copy(outDir.resolve("Olga_Online-" + serial + ".p12"), home.resolve("olga.p12"));
    assertPkcs12MatchesCertificate(home.resolve("olga.p12"), pw, "olga");

    Run show = ok(cat(asMax, "recovery", "show", id));
    assertTrue(show.out().contains("completed, 2 of 2 steps") && show.out().contains("step 1  CN=Agent kra1  card "
        + hsm.label("kra1")) && show.out().contains("step 2  CN=Agent kra2  card " + hsm.label("kra2")), show.out());

    // a receipt for the key's owner, signed by the CA: OpenSSL checks it against the CA certificate
    Path receipt = home.resolve("olga.receipt");
    Run r = ok(cat(asMax, "recovery", "receipt", id, "--out", receipt.toString()));
    assertTrue(r.out().contains("key of:      certificate " + serial + ", CN=Olga Online"), r.out());
    Run checked = openssl("cms", "-verify", "-CAfile", "ca.crt", "-in", "olga.receipt", "-inform", "DER");
    assertTrue(checked.out().contains("Verification successful") && checked.out().contains("CN=Agent kra1")
        && checked.out().contains("CN=Agent kra2") && checked.out().contains("opened by:   CN=Max Manager"),
        checked.out());
    Run byAgent = keyarc(cat(asAgent("kra1"), "recovery", "receipt", id, "--out",
        home.resolve("olga-agent.receipt").toString()));
    assertEquals(34, byAgent.exit(), "certificate managers only: " + byAgent.err());
    assertFalse(Files.exists(home.resolve("olga-agent.receipt")));
  }

  @Test
  @org.junit.jupiter.api.Order(Integer.MAX_VALUE) // revokes an agent: runs after the tests that need all three
  void onlineOneOfThreeRsaAndARevokedAgentIsRefused() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "1"));
    String serial = archiveUser("CN=Rudi Rsa", "rsa2048", "rudi");
    String rudiId = openedId(ok(cat(asMax, "recovery", "open", "--serial", serial)));
    Path outDir = Files.createDirectories(home.resolve("agent-out-rudi"));
    Path pw = file("rudi.pw", "rsa-online-Passw0rd");
    Run done = ok(cat(cat(asAgent("kra3"), card("kra3")), "agent", "watch", "--once", "--out-dir", outDir.toString(),
        "--password-file", pw.toString(), "--approve", rudiId));
    assertTrue(done.out().contains("last step done by CN=Agent kra3"), done.out());
    Files.copy(outDir.resolve("Rudi_Rsa-" + serial + ".p12"), home.resolve("rudi.p12"));
    assertPkcs12MatchesCertificate(home.resolve("rudi.p12"), pw, "rudi");

    // an agent whose certificate was revoked after the key was archived can no longer take part
    String serial2 = archiveUser("CN=Rita Revoked", "p256", "rita");
    ok(cat(asMax, "cert", "revoke", agentSerials.get(1), "--reason", "affiliationChanged"));
    String ritaId = openedId(ok(cat(asMax, "recovery", "open", "--serial", serial2)));
    Run revoked = keyarc(cat(cat(asAgent("kra2"), card("kra2")), "agent", "watch", "--once", "--out-dir",
        outDir.toString(), "--password-file", pw.toString(), "--approve", ritaId));
    assertEquals(47, revoked.exit(), revoked.out() + revoked.err());
    assertTrue(revoked.err().contains("was revoked"), revoked.err());
    var audit = node.services().store().inTransaction(tx -> tx.audit().records(0, Long.MAX_VALUE));
    assertTrue(audit.stream().anyMatch(r -> r.action().equals("recovery.refused") && r.detail().contains("code=47")),
        "the refused step is audited");
    assertTrue(audit.stream().anyMatch(r -> r.action().equals("recovery.complete")));
    assertTrue(audit.stream().anyMatch(r -> r.action().equals("key.getkey")));
    assertFalse(Files.exists(outDir.resolve("Rita_Revoked-" + serial2 + ".p12")));

    // offline, the same rule with the CA's CRL (the first CA key's: it issued the agents' certificates), and an
    // explicit override that warns
    Path blob = home.resolve("rita.blob");
    ok(cat(asMax, "getkey", "--serial", serial2, "--out", blob.toString()));
    var crl = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        "http://127.0.0.1:" + node.httpPort() + "/crl")).build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, crl.statusCode());
    Path crlFile = home.resolve("ca0.crl");
    Files.write(crlFile, crl.body());
    Path ritaP12 = home.resolve("rita.p12");
    Run offline = keyarc(cat(card("kra2"), "recoverkey", blob.toString(), "--crl", crlFile.toString(), "--out",
        ritaP12.toString(), "--password-file", pw.toString()));
    assertEquals(47, offline.exit(), offline.out() + offline.err());
    assertTrue(offline.err().contains("CN=Agent kra2") && offline.err().contains("is revoked")
        && offline.err().contains("--allow-revoked-agent"), offline.err());
    assertFalse(Files.exists(ritaP12));
    Run forged = keyarc(cat(card("kra2"), "recoverkey", blob.toString(), "--crl", home.resolve("ada.crt").toString(),
        "--out", ritaP12.toString(), "--password-file", pw.toString()));
    assertEquals(36, forged.exit(), "a certificate is no CRL: " + forged.err());
    Run allowed = ok(cat(card("kra2"), "recoverkey", blob.toString(), "--crl", crlFile.toString(),
        "--allow-revoked-agent", "--out", ritaP12.toString(), "--password-file", pw.toString()));
    assertTrue(allowed.err().contains("warning: CN=Agent kra2") && allowed.err().contains("doing the step anyway"),
        allowed.err());
    assertPkcs12MatchesCertificate(ritaP12, pw, "rita");
  }

  @Test
  void theOtherPolicyKeyAndModeCombinations() throws Exception {
    // offline 2-of-3 with an EC key and 1-of-3 with an RSA key; online 2-of-3 RSA and 1-of-3 EC
    for (Object[] c : new Object[][] {{"2", "p256", false}, {"1", "rsa2048", false}, {"2", "rsa2048", true},
        {"1", "p256", true}}) {
      ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", (String) c[0]));
      String name = "combo" + c[0] + c[1] + c[2];
      String serial = archiveUser("CN=" + name, (String) c[1], name);
      Path pw = file(name + ".pw", "combo-Passw0rd-" + name);
      Path p12 = home.resolve(name + ".p12");
      boolean online = (Boolean) c[2];
      if (online) {
        String comboId = openedId(ok(cat(asMax, "recovery", "open", "--serial", serial)));
        Path outDir = Files.createDirectories(home.resolve("out-" + name));
        for (String agent : c[0].equals("2") ? List.of("kra1", "kra3") : List.of("kra2")) {
          ok(cat(cat(asAgent(agent), card(agent)), "agent", "watch", "--once", "--out-dir", outDir.toString(),
              "--password-file", pw.toString(), "--approve", comboId));
        }
        Files.copy(outDir.resolve(name + "-" + serial + ".p12"), p12); // the file is named after the certificate
      } else {
        Path blob = home.resolve(name + ".blob");
        ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
        if (c[0].equals("2")) {
          ok(cat(card("kra2"), "recoverkey", blob.toString(), "--next", home.resolve(name + ".step").toString()));
          ok(cat(card("kra3"), "recoverkey", home.resolve(name + ".step").toString(), "--out", p12.toString(),
              "--password-file", pw.toString()));
        } else {
          ok(cat(card("kra3"), "recoverkey", blob.toString(), "--out", p12.toString(), "--password-file",
              pw.toString()));
        }
      }
      assertPkcs12MatchesCertificate(p12, pw, name);
    }
  }

  /**
   * Issue 18, import for archival: a User certificate's key, never archived, handed over as a PKCS#12 made with
   * OpenSSL; the manager imports it (the key is encrypted to the exchange certificate on this machine), and one card
   * recovers it.
   */
  @Test
  void anExistingKeyIsImportedFromAPkcs12AndRecovered() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "1"));
    String[] s = secret("User", "CN=Ivan Import", "ivan");
    Run enrolled = ok("enroll", "--node", url, "--ref", s[0], "--secret-file", s[1], "--key-type", "rsa2048",
        "--out-key", home.resolve("ivan.key").toString(), "--out-cert", home.resolve("ivan.crt").toString());
    String serial = enrolled.out().replaceAll("(?s).*serial ([0-9a-f]+), until.*", "$1");
    Files.copy(home.resolve("ivan.key"), home.resolve("ivan.key.reference"));
    Path pw = file("ivan.pw", "import-Passw0rd");
    assertEquals(0, openssl("pkcs12", "-export", "-inkey", "ivan.key", "-in", "ivan.crt", "-out", "ivan-old.p12",
        "-passout", "file:" + pw).exit());
    Run imported = ok(cat(asMax, "archive", "import", "--p12", home.resolve("ivan-old.p12").toString(),
        "--password-file", pw.toString()));
    assertTrue(imported.out().contains("archived      key of CN=Ivan Import (serial " + serial), imported.out());
    Run again = keyarc(cat(asMax, "archive", "import", "--p12", home.resolve("ivan-old.p12").toString(),
        "--password-file", pw.toString(), "--report", home.resolve("ivan-again.csv").toString()));
    assertEquals(30, again.exit(), again.err());
    List<String> report = Files.readAllLines(home.resolve("ivan-again.csv"));
    assertEquals("serial,issuer,subject,result,detail", report.get(0));
    assertTrue(report.size() == 2 && report.get(1).startsWith(serial + ",\"CN=Recovery Test CA\",\"CN=Ivan Import\","
        + "refused,"), report.toString());
    Path blob = home.resolve("ivan.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    Path p12 = home.resolve("ivan.p12");
    ok(cat(card("kra1"), "recoverkey", blob.toString(), "--out", p12.toString(), "--password-file", pw.toString()));
    assertPkcs12MatchesCertificate(p12, pw, "ivan");

    // a PEM key with its certificate (what an old KMS or a file export gives), and a key that is not the certificate's
    String[] k = secret("User", "CN=Kim Pem", "kim");
    Run kim = ok("enroll", "--node", url, "--ref", k[0], "--secret-file", k[1], "--out-key",
        home.resolve("kim.key").toString(), "--out-cert", home.resolve("kim.crt").toString());
    String kimSerial = kim.out().replaceAll("(?s).*serial ([0-9a-f]+), until.*", "$1");
    Files.copy(home.resolve("kim.key"), home.resolve("kim.key.reference"));
    Run mismatch = keyarc(cat(asMax, "archive", "import", "--pem-key", home.resolve("ivan.key").toString(), "--pem-cert",
        home.resolve("kim.crt").toString()));
    assertTrue(mismatch.exit() != 0, "another key than the certificate's: " + mismatch.out() + mismatch.err());
    Run pem = ok(cat(asMax, "archive", "import", "--pem-key", home.resolve("kim.key").toString(), "--pem-cert",
        home.resolve("kim.crt").toString()));
    assertTrue(pem.out().contains("archived      key of CN=Kim Pem (serial " + kimSerial), pem.out());
    Path kimBlob = home.resolve("kim.blob");
    ok(cat(asMax, "getkey", "--serial", kimSerial, "--out", kimBlob.toString()));
    Path kimP12 = home.resolve("kim.p12");
    ok(cat(card("kra2"), "recoverkey", kimBlob.toString(), "--out", kimP12.toString(), "--password-file",
        pw.toString()));
    assertPkcs12MatchesCertificate(kimP12, pw, "kim");
    Run both = keyarc(cat(asMax, "archive", "import", "--p12", home.resolve("ivan-old.p12").toString(), "--pem-key",
        home.resolve("kim.key").toString(), "--pem-cert", home.resolve("kim.crt").toString()));
    assertEquals(36, both.exit(), both.err());

    // a key of another CA's certificate (an old ADCS's): recorded as external, found by its hash, recovered with the
    // certificate as it was and no chain of this CA's
    Files.writeString(home.resolve("old.ext"), "keyUsage=critical,keyEncipherment\n");
    assertEquals(0, openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "oldca.key", "-out", "oldca.crt",
        "-subj", "/CN=Old ADCS CA", "-days", "30").exit());
    assertEquals(0, openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "exta.key", "-out", "exta.csr", "-subj",
        "/CN=Olga Old").exit());
    assertEquals(0, openssl("x509", "-req", "-in", "exta.csr", "-CA", "oldca.crt", "-CAkey", "oldca.key",
        "-CAcreateserial", "-out", "exta.crt", "-days", "30", "-extfile", "old.ext").exit());
    assertEquals(0, openssl("pkcs12", "-export", "-inkey", "exta.key", "-in", "exta.crt", "-out", "exta-old.p12",
        "-passout", "file:" + pw).exit());
    Files.copy(home.resolve("exta.key"), home.resolve("exta.key.reference"));
    Run ext = ok(cat(asMax, "archive", "import", "--p12", home.resolve("exta-old.p12").toString(), "--password-file",
        pw.toString(), "--report", home.resolve("exta.csv").toString()));
    assertTrue(ext.out().contains("archived      key of CN=Olga Old") && ext.out().contains("issuer CN=Old ADCS CA"),
        ext.out());
    assertTrue(Files.readAllLines(home.resolve("exta.csv")).get(1).contains("\"CN=Old ADCS CA\",\"CN=Olga Old\","
        + "archived,"));
    String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(
        CliFiles.readCertificate(home.resolve("exta.crt")).getEncoded()));
    Path extaBlob = home.resolve("exta.blob");
    ok(cat(asMax, "getkey", "--sha256", hash, "--out", extaBlob.toString()));
    Path extaP12 = home.resolve("exta.p12");
    ok(cat(card("kra3"), "recoverkey", extaBlob.toString(), "--out", extaP12.toString(), "--password-file",
        pw.toString()));
    assertPkcs12MatchesCertificate(extaP12, pw, "exta");
    Run certsIn = openssl("pkcs12", "-in", extaP12.toString(), "-passin", "file:" + pw, "-nokeys");
    assertTrue(certsIn.out().contains("CN = Olga Old") && !certsIn.out().contains("Recovery Test CA"), certsIn.out());
  }

  /**
   * A key archived before a CA key rollover is recovered after it: the blob is signed by the new key and holds the
   * user's certificate the old key signed. {@code ca rollover} writes every CA key's certificate to ca.crt (the new
   * one first), which recoverkey takes; pinned to the new certificate alone, the old key's certificate in the blob
   * is refused. Runs after the other recoveries (the node restarts on a new port), before the agent revocation.
   */
  @Test
  @org.junit.jupiter.api.Order(Integer.MAX_VALUE - 1)
  void aKeyArchivedBeforeACaKeyRolloverIsRecoveredAfterIt() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "1"));
    String serial = archiveUser("CN=Rolf Rollover", "p256", "rolf");
    Path oldCa = home.resolve("ca-before-rollover.crt");
    Files.copy(home.resolve("ca.crt"), oldCa);
    node.close();
    node = null;
    Run rolled = ok("ca", "rollover", "--config", config.toString());
    assertTrue(rolled.out().contains("CA key        1 (new)") && rolled.out().contains("NewWithOld"), rolled.out());
    node = CaNode.start(NodeConfig.load(config));
    url = "tls://127.0.0.1:" + node.binaryPort();
    asAda[1] = url;
    asMax[1] = url;
    Run info = ok("ca", "info", "--config", config.toString());
    assertTrue(info.out().contains("(signs now)"), info.out());

    // Max's certificate is the old key's: it still authenticates him (and the TLS trust is the new ca.crt)
    Path blob = home.resolve("rolf.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    Path onlyNew = home.resolve("ca-new-only.crt");
    String bundle = Files.readString(home.resolve("ca.crt"));
    Files.writeString(onlyNew, bundle.substring(0, bundle.indexOf("-----END CERTIFICATE-----") + 26));
    assertTrue(!Files.readString(oldCa).equals(Files.readString(onlyNew)), "a new CA certificate");
    Path pw = file("rolf.pw", "rollover-Passw0rd");
    Run pinnedNew = keyarc(cat(card("kra1"), "recoverkey", blob.toString(), "--ca-cert", onlyNew.toString(), "--out",
        home.resolve("rolf-x.p12").toString(), "--password-file", pw.toString()));
    assertEquals(35, pinnedNew.exit(), pinnedNew.out() + pinnedNew.err());
    assertTrue(pinnedNew.err().contains("was not issued by"), pinnedNew.err());
    // without --out, the file is named after the certificate (in the working directory)
    Path p12 = Path.of("Rolf_Rollover-" + serial + ".p12");
    Files.deleteIfExists(p12);
    try {
      ok(cat(card("kra1"), "recoverkey", blob.toString(), "--password-file", pw.toString()));
      Files.copy(p12, home.resolve("rolf.p12"));
    } finally {
      Files.deleteIfExists(p12);
    }
    assertPkcs12MatchesCertificate(home.resolve("rolf.p12"), pw, "rolf");
    Run names = openssl("pkcs12", "-in", "rolf.p12", "-nokeys", "-passin", "file:" + pw);
    assertTrue(names.out().contains("friendlyName: Rolf Rollover (recovered)"), names.out());
  }

  /**
   * Issue 18's "many keys in one ceremony": a user's three archived keys are fetched at once (getkey --subject),
   * each agent does its step on all three in one pass with its card, and the last pass writes them into one
   * PKCS#12 (--merge) that OpenSSL opens with three keys; pfx merge joins separate files the same way.
   */
  @Test
  void aUsersThreeKeysComeBackInOneCeremonyAndOneFile() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    List<String> serials = new ArrayList<>();
    for (String[] k : new String[][] {{"p256", "una1"}, {"rsa2048", "una2"}, {"p384", "una3"}}) {
      serials.add(archiveUser("CN=Una Three", k[0], k[1]));
    }
    Path blob = home.resolve("una.blob");
    Run got = ok(cat(asMax, "getkey", "--user", "CN=Una Three", "--out", blob.toString()));
    List<String> blobs = new ArrayList<>();
    List<String> partials = new ArrayList<>();
    for (String serial : serials) {
      assertTrue(Files.exists(Path.of(blob + "-" + serial)), got.out());
      blobs.add(blob + "-" + serial);
      partials.add(blob + "-" + serial + ".next");
    }
    // what needs no card is checked before any step: a damaged third file, or another user's key for --merge, stops
    // the pass with nothing written
    byte[] third = Files.readAllBytes(Path.of(blobs.get(2)));
    third[third.length / 2] ^= 0x01;
    Path damaged = home.resolve("una-damaged.blob");
    Files.write(damaged, third);
    Run stopped = keyarc(cat(card("kra1"), "recoverkey", blobs.get(0), blobs.get(1), damaged.toString()));
    assertTrue(stopped.exit() == 35 || stopped.exit() == 36, stopped.err());
    assertTrue(stopped.err().contains(damaged.toString()), "the failing file is named: " + stopped.err());
    String otto = archiveUser("CN=Otto Other", "p256", "otto");
    Path ottoBlob = home.resolve("otto.blob");
    ok(cat(asMax, "getkey", "--serial", otto, "--out", ottoBlob.toString()));
    Run mixed = keyarc(cat(card("kra1"), "recoverkey", blobs.get(0), ottoBlob.toString(), "--merge",
        home.resolve("mixed.p12").toString()));
    assertEquals(36, mixed.exit(), mixed.err());
    assertTrue(mixed.err().contains("--merge puts one user's keys in one file"), mixed.err());
    for (String b : blobs) {
      assertFalse(Files.exists(Path.of(b + ".next")), "no step was done: " + b);
    }
    Run first = ok(cat(card("kra1"), cat(blobs.toArray(new String[0]), "recoverkey")));
    assertEquals(3, first.out().split("step          done by CN=Agent kra1", -1).length - 1, first.out());
    Path p12 = home.resolve("una.p12");
    Path pw = file("una.pw", "three-keys-Passw0rd");
    Run last = ok(cat(card("kra3"), cat(partials.toArray(new String[0]), "recoverkey", "--merge", p12.toString(),
        "--password-file", pw.toString())));
    assertTrue(last.out().contains("(3 keys in one file)"), last.out());
    Run keys = openssl("pkcs12", "-in", "una.p12", "-nocerts", "-nodes", "-passin", "file:" + pw);
    assertEquals(3, keys.out().split("BEGIN PRIVATE KEY", -1).length - 1, keys.out());
    assertEquals(3, keys.out().split("friendlyName: Una Three \\(recovered\\)", -1).length - 1, keys.out());

    // pfx merge: two files made elsewhere (same password) become one; a wrong password is refused, nothing written
    for (String n : List.of("una1", "una2")) {
      assertEquals(0, openssl("pkcs12", "-export", "-inkey", n + ".key.reference", "-in", n + ".crt", "-out",
          n + "-single.p12", "-passout", "file:" + pw).exit());
    }
    Path merged = home.resolve("una-merged.p12");
    Run m = ok("pfx", "merge", home.resolve("una1-single.p12").toString(), home.resolve("una2-single.p12").toString(),
        "--out", merged.toString(), "--password-file", pw.toString());
    assertTrue(m.out().contains("(2 keys; mode 0600)"), m.out());
    Run mergedKeys = openssl("pkcs12", "-in", "una-merged.p12", "-nocerts", "-nodes", "-passin", "file:" + pw);
    assertEquals(2, mergedKeys.out().split("BEGIN PRIVATE KEY", -1).length - 1, mergedKeys.out());
    Run wrong = keyarc("pfx", "merge", home.resolve("una1-single.p12").toString(),
        home.resolve("una2-single.p12").toString(), "--out", home.resolve("una-wrong.p12").toString(),
        "--password-file", pw.toString(), "--in-password-file", file("una-wrong.pw", "not-the-Passw0rd").toString());
    assertEquals(36, wrong.exit(), wrong.err());
    assertTrue(wrong.err().contains("the password does not open the file"), wrong.err());
    assertFalse(Files.exists(home.resolve("una-wrong.p12")));
  }

  @Test
  void tamperedBlobIsRefused() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "1"));
    String serial = archiveUser("CN=Tom Tamper", "p256", "tom");
    Path blob = home.resolve("tom.blob");
    ok(cat(asMax, "getkey", "--serial", serial, "--out", blob.toString()));
    byte[] original = Files.readAllBytes(blob);
    // every 61st byte across the whole blob: each part of the structure is hit, deterministically
    for (int at = 3; at < original.length; at += 61) {
      byte[] b = original.clone();
      b[at] ^= 0x01;
      Path tampered = home.resolve("tom.tampered");
      Files.write(tampered, b);
      Run r = keyarc(cat(card("kra1"), "recoverkey", tampered.toString(), "--out", home.resolve("tom.p12").toString(),
          "--password-file", file("tom.pw", "tamper-Passw0rd").toString()));
      assertTrue(r.exit() == 35 || r.exit() == 36, "byte " + at + ": exit " + r.exit() + ": " + r.out() + r.err());
      assertFalse(Files.exists(home.resolve("tom.p12")));
    }
  }
}
