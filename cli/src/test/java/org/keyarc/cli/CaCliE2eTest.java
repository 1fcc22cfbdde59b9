package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
 * The administrator's and the manager's story through the command line, against a node on loopback:
 * init, enroll with a one-time secret, roles, a pending Key Recovery Agent request approved and
 * collected, revocation and the CRL, audit verify; and the one-line errors with their exit codes.
 */
class CaCliE2eTest {
  static SoftHsmFixture hsm;
  static Path home;
  static Path config;
  static CaNode node;
  static String url;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("ca", "card");
    Files.createDirectories(Path.of("target"));
    home = Files.createTempDirectory(Path.of("target"), "cli-home-").toAbsolutePath();
    System.setProperty("keyarc.home", home.toString());
    config = home.resolve("ca.yaml");
    Files.writeString(config, String.join("\n",
        "# test node",
        "dataDir: " + home.resolve("data"),
        "hsm:",
        "  module: " + SoftHsmFixture.library(),
        "  token: " + hsm.label("ca"),
        "  pinFile: " + hsm.pinFile("ca"),
        "binary:",
        "  port: 0",
        "http:",
        "  port: 0",
        "ca:",
        "  subject: CN=CLI Test CA, O=keyarc",
        "timers:",
        "  pollIntervalSeconds: 1",
        ""));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (node != null) {
      node.close();
    }
    hsm.close();
    System.clearProperty("keyarc.home");
  }




  static Path secretFile(String name, String secret) throws Exception {
    Path f = home.resolve(name + ".secret");
    Files.writeString(f, secret + "\n");
    return f;
  }

  /** Enrolls SUBJECT with a one-time secret; returns {cert, key}. */
  static String[] enroll(String name, String ref, String secret, String... extra) throws Exception {
    String cert = home.resolve(name + ".crt").toString();
    String key = home.resolve(name + ".key").toString();
    String[] base = {"enroll", "--node", url, "--ref", ref, "--secret-file", secretFile(name, secret).toString(),
        "--out-key", key, "--out-cert", cert};
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    Run r = keyarc(all);
    assertEquals(0, r.exit(), r.err());
    return new String[] {cert, key};
  }

  @Test
  void administratorAndManagerStory() throws Exception {
    Run init = keyarc("ca", "init", "--config", config.toString(), "--admin", "CN=Ada Admin");
    assertEquals(0, init.exit(), init.err());
    assertTrue(init.out().contains("CA cert       CN=CLI Test CA,O=keyarc"), init.out());
    assertTrue(Files.exists(home.resolve("ca.crt")));
    Run again = keyarc("ca", "init", "--config", config.toString());
    assertEquals(30, again.exit(), "a second init is refused: " + again.err());
    assertTrue(again.err().startsWith("keyarc: error 30 (bad request): this store already holds a CA"), again.err());

    node = CaNode.start(NodeConfig.load(config));
    Run info = keyarc("ca", "info", "--config", config.toString());
    assertEquals(0, info.exit(), info.err());
    assertTrue(info.out().contains("(self-signed root)") && info.out().contains("(current)")
        && info.out().contains("KeyRecoveryAgent      730 days  requires approval")
        && info.out().contains("administrator  CN=Ada Admin"), info.out());
    url = "tls://127.0.0.1:" + node.binaryPort();
    String http = "https://127.0.0.1:" + node.httpsPort() + "/";

    String[] ada = enroll("ada", field(init.out(), "reference"), field(init.out(), "secret"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(ada[1]))));
    String[] asAda = {"--node", http, "--cert", ada[0], "--key", ada[1]};

    // the same secret again, and an output file that exists: both refused, nothing overwritten
    Run reuse = keyarc("enroll", "--node", url, "--ref", field(init.out(), "reference"), "--secret-file",
        home.resolve("ada.secret").toString(), "--out-key", home.resolve("x.key").toString(), "--out-cert", ada[0]);
    assertEquals(36, reuse.exit(), reuse.err());
    assertTrue(reuse.err().contains("exists; use --force"), reuse.err());

    // a role is bound to a certificate holder's key: Max enrolls first, then gets the role
    Run early = keyarc(concat(new String[] {"role", "grant", "--role", "manager", "--subject", "CN=Max Manager"},
        asAda));
    assertEquals(41, early.exit(), "nobody holds that name yet: " + early.err());
    Run s = keyarc(concat(new String[] {"secret", "create", "--template", "User", "--subject", "CN=Max Manager"},
        asAda));
    assertEquals(0, s.exit(), s.err());
    String[] max = enroll("max", field(s.out(), "reference"), field(s.out(), "secret"));
    String[] asMax = {"--node", url, "--cert", max[0], "--key", max[1]};
    Run granted = keyarc(concat(new String[] {"role", "grant", "--role", "manager", "--subject", "CN=Max Manager"},
        asAda));
    assertEquals(0, granted.exit(), granted.err());
    assertTrue(granted.out().startsWith("granted manager to CN=Max Manager (certificate ") && granted.out().contains(
        "bound to its key"), granted.out());
    Run both = keyarc(concat(new String[] {"role", "grant", "--role", "auditor", max[0]}, asAda));
    assertEquals(46, both.exit(), "role separation: " + both.err());
    // the ceremony's secret is not made again for a name that holds a role
    Run again2 = keyarc("ca", "admin-secret", "--config", config.toString(), "--admin", "CN=Ada Admin");
    assertEquals(46, again2.exit(), again2.err());
    // nobody (here the manager) gets a secret for a role holder's name
    Run copy = keyarc(concat(new String[] {"secret", "create", "--template", "User", "--subject", "CN=Ada Admin"},
        asMax));
    assertEquals(46, copy.exit(), copy.err());
    assertTrue(copy.err().startsWith("keyarc: error 46 (role separation: a conflicting role, or a role holder's "
        + "name): CN=Ada Admin holds the administrator role"), copy.err());

    // a key generated on a PKCS#11 token (here a SoftHSM2 "card"): it never leaves the token
    Run ts = keyarc(concat(new String[] {"secret", "create", "--template", "User", "--subject", "CN=Tom Token"},
        asAda));
    Run onToken = keyarc("enroll", "--node", url, "--ref", field(ts.out(), "reference"), "--secret-file",
        secretFile("tom", field(ts.out(), "secret")).toString(), "--out-cert", home.resolve("tom.crt").toString(),
        "--key-label", "tom-signing", "--module", SoftHsmFixture.library().toString(), "--token", hsm.label("card"),
        "--pin-file", hsm.pinFile("card").toString());
    assertEquals(0, onToken.exit(), onToken.err());
    assertTrue(onToken.out().contains("generated on token " + hsm.label("card") + " as pkcs11:token="
        + hsm.label("card") + ";object=tom-signing (not extractable)"), onToken.out());
    try (var t = hsm.open("card", 1)) {
      var key = t.call(x -> x.findKey(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, "tom-signing"));
      var attrs = t.call(x -> x.attributes(key));
      assertTrue(attrs.sensitive() && !attrs.extractable(), attrs.toString());
    }

    // a Key Recovery Agent request waits, the manager approves, the agent collects
    // (Ada makes the secret: the manager who made a request's secret is its requester and may not approve it)
    Run ks = keyarc(concat(new String[] {"secret", "create", "--template", "KeyRecoveryAgent", "--subject",
        "CN=Kai Agent"}, asAda));
    assertEquals(0, ks.exit(), ks.err());
    String kaiCert = home.resolve("kai.crt").toString();
    Run pending = keyarc("enroll", "--node", http, "--ref", field(ks.out(), "reference"), "--secret-file",
        secretFile("kai", field(ks.out(), "secret")).toString(), "--key-type", "rsa2048", "--out-key",
        home.resolve("kai.key").toString(), "--out-cert", kaiCert);
    assertEquals(0, pending.exit(), pending.err());
    assertTrue(pending.out().contains("pending       the request waits for a certificate manager's approval"),
        pending.out());
    assertFalse(Files.exists(Path.of(kaiCert)));

    Run list = keyarc(concat(new String[] {"request", "list"}, asMax));
    assertEquals(0, list.exit(), list.err());
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Kai Agent").matcher(list.out());
    assertTrue(id.find(), list.out());
    Run byAda = keyarc(concat(new String[] {"request", "approve", id.group(1)}, asAda));
    assertEquals(34, byAda.exit(), "the administrator is not a manager: " + byAda.err());
    assertEquals("keyarc: error 34 (not authorized): CN=Ada Admin is not a manager on this CA\n", byAda.err());
    assertEquals(0, keyarc(concat(new String[] {"request", "approve", id.group(1)}, asMax)).exit());
    // four eyes: a request made with a secret Max made is Max's own; he cannot approve it (error 62)
    Run ms2 = keyarc(concat(new String[] {"secret", "create", "--template", "KeyRecoveryAgent", "--subject",
        "CN=Moe Agent"}, asMax));
    Run moe = keyarc("enroll", "--node", http, "--ref", field(ms2.out(), "reference"), "--secret-file",
        secretFile("moe", field(ms2.out(), "secret")).toString(), "--key-type", "rsa2048", "--out-key",
        home.resolve("moe.key").toString(), "--out-cert", home.resolve("moe.crt").toString());
    assertEquals(0, moe.exit(), moe.err());
    Matcher moeId = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Moe Agent").matcher(
        keyarc(concat(new String[] {"request", "list"}, asMax)).out());
    assertTrue(moeId.find());
    Run own = keyarc(concat(new String[] {"request", "approve", moeId.group(1)}, asMax));
    assertEquals(62, own.exit(), own.err());
    assertEquals("keyarc: error 62 (the requester of a request cannot approve it): CN=Max Manager cannot approve "
        + "request " + moeId.group(1) + ": it is its requester, or made the one-time secret the request used; another "
        + "certificate manager must approve it (nothing was issued)\n", own.err());
    Run shown = keyarc(concat(new String[] {"request", "show", id.group(1)}, asMax));
    assertTrue(shown.out().contains("\"cardEvidence\" : null") && shown.out().contains("\"decidedBy\" : \"CN=Max "
        + "Manager\""), shown.out());
    Run collect = keyarc("enroll", "--node", http, "--resume", kaiCert + ".pending", "--ref", field(ks.out(),
        "reference"), "--secret-file", home.resolve("kai.secret").toString(), "--out-cert", kaiCert);
    assertEquals(0, collect.exit(), collect.err());
    assertTrue(collect.out().contains("certificate   CN=Kai Agent"), collect.out());

    // Kai becomes the recovery agent (1 of 1); Uma's key is archived to Kai and Kai's key alone recovers it
    String serial = field(collect.out(), "certificate   CN=Kai Agent, serial").replace(",", "");
    // Kai's key was made in software (enroll --key-type rsa2048): no card evidence, so kra add asks first
    Run noEvidence = keyarc(concat(new String[] {"kra", "add", kaiCert}, asAda));
    assertEquals(30, noEvidence.exit(), noEvidence.err());
    assertTrue(noEvidence.err().contains("carried no card evidence") && noEvidence.err().contains(
        "--without-card-evidence"), noEvidence.err());
    Run add = keyarc(concat(new String[] {"kra", "add", kaiCert, "--without-card-evidence"}, asAda));
    assertEquals(0, add.exit(), add.err());
    assertTrue(add.out().contains("requested by  secret:" + field(ks.out(), "reference") + " (one-time secret made by "
        + "CN=Ada Admin)") && add.out().contains("approved by   CN=Max Manager") && add.out().contains(
        "NO CARD EVIDENCE"), add.out());
    assertEquals(0, keyarc(concat(new String[] {"kra", "policy", "--agents", "1", "--threshold", "1"}, asAda)).exit());
    Run kras = keyarc(concat(new String[] {"kra", "list"}, asMax));
    assertTrue(kras.out().contains("policy: 1 of 1 agents") && kras.out().contains("CN=Kai Agent")
        && kras.out().contains("valid until"), kras.out());
    // a secret with a name its template does not take from a secret: refused naming the type
    Run dns = keyarc(concat(new String[] {"secret", "create", "--template", "ExchangeUserKeyArc", "--subject",
        "CN=Uma User", "--san", "dns:www.bank.example"}, asMax));
    assertEquals(61, dns.exit(), dns.err());
    assertTrue(dns.err().contains("template ExchangeUserKeyArc allows no dNSName"), dns.err());
    Run us = keyarc(concat(new String[] {"secret", "create", "--template", "ExchangeUserKeyArc", "--subject",
        "CN=Uma User", "--email", "uma@example.org"}, asMax));
    assertTrue(us.out().contains("san        email:uma@example.org"), us.out());
    Run noArchive = keyarc("enroll", "--node", url, "--ref", field(us.out(), "reference"), "--secret-file",
        secretFile("uma", field(us.out(), "secret")).toString(), "--out-key", home.resolve("uma0.key").toString(),
        "--out-cert", home.resolve("uma0.crt").toString());
    assertEquals(45, noArchive.exit(), "without --archive: " + noArchive.err());
    assertFalse(Files.exists(home.resolve("uma0.key")), "a refused request leaves no key file");
    Run uma = keyarc("enroll", "--archive", "--node", url, "--ref", field(us.out(), "reference"), "--secret-file",
        home.resolve("uma.secret").toString(), "--key-type", "rsa2048", "--out-key", home.resolve("uma.key").toString(),
        "--out-cert", home.resolve("uma.crt").toString());
    assertEquals(0, uma.exit(), uma.err());
    assertTrue(uma.out().contains("archival      key encrypted to exchange certificate"), uma.out());
    assertTrue(uma.out().contains("names         email:uma@example.org"), "the S/MIME address from the secret: "
        + uma.out());
    java.math.BigInteger umaSerial = CliFiles.readCertificate(home.resolve("uma.crt")).getSerialNumber();
    var archives = node.services().archives().find(new org.keyarc.ca.auth.Identity(org.keyarc.ca.auth.Identity.Kind.CERTIFICATE,
        "CN=Max Manager", java.util.Set.of(org.keyarc.ca.store.Role.MANAGER)), umaSerial, null, null);
    assertEquals(1, archives.size());
    var record = org.keyarc.protocol.archive.ArchiveRecord.getInstance(archives.get(0).record());
    javax.crypto.Cipher oaep = javax.crypto.Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
    oaep.init(javax.crypto.Cipher.DECRYPT_MODE, CliFiles.readPrivateKey(home.resolve("kai.key")));
    byte[] k = oaep.doFinal(record.envelopes().get(0).layers());
    var kwp = new org.bouncycastle.crypto.engines.RFC5649WrapEngine(
        org.bouncycastle.crypto.engines.AESEngine.newInstance());
    kwp.init(false, new org.bouncycastle.crypto.params.KeyParameter(k));
    byte[] w = record.wrappedKey();
    var recovered = org.bouncycastle.asn1.pkcs.RSAPrivateKey.getInstance(
        org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(org.keyarc.hsm.Der.trimTrailingPadding(
            kwp.unwrap(w, 0, w.length))).parsePrivateKey());
    var umaKey = (java.security.interfaces.RSAPrivateKey) CliFiles.readPrivateKey(home.resolve("uma.key"));
    assertEquals(umaKey.getPrivateExponent(), recovered.getPrivateExponent(), "Kai's key recovers Uma's key");

    // revoke, then the CRL lists it (and Kai is no longer a usable agent)
    assertEquals(0, keyarc(concat(new String[] {"cert", "revoke", serial, "--reason", "superseded"}, asMax)).exit());
    Run kraAfter = keyarc(concat(new String[] {"kra", "list"}, asMax));
    assertTrue(kraAfter.out().contains("INVALID: revoked") && kraAfter.out().contains("WARNING: only 0 valid agents"),
        kraAfter.out());
    Run crl = keyarc("crl", "get", "--node", url, "--out", home.resolve("ca.crl").toString());
    assertEquals(0, crl.exit(), crl.err());
    assertTrue(crl.err().contains("(1 revoked"), crl.err());

    // the audit chain, locally on the CA host
    node.services().audit().checkpoint();
    Run audit = keyarc("audit", "verify", "--config", config.toString());
    assertEquals(0, audit.exit(), audit.err());
    assertTrue(audit.out().contains("audit chain intact"), audit.out());
  }

  @Test
  void configErrorNamesTheField() throws Exception {
    Path bad = home.resolve("bad.yaml");
    Files.writeString(bad, "binary:\n  port: 70000\n");
    Run r = keyarc("ca", "info", "--config", bad.toString());
    assertEquals(52, r.exit());
    assertEquals("keyarc: error 52 (configuration invalid): " + bad + ": field 'binary.port' must be a TCP port "
        + "(0 = any free port), not 70000\n", r.err());
    Files.writeString(bad, "binary:\n  prot: 1\n");
    Run unknown = keyarc("ca", "info", "--config", bad.toString());
    assertEquals(52, unknown.exit());
    assertTrue(unknown.err().contains("unknown field 'binary.prot'"), unknown.err());
  }

  static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
