package org.keyarc.ca.config;

import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keyarc.ca.template.Template;
import org.keyarc.ca.template.Templates;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Load → defaults → validate; every error names the file and the field. */
class NodeConfigTest {
  @TempDir
  Path dir;

  private NodeConfig load(String yaml) throws Exception {
    Path f = dir.resolve("ca.yaml");
    Files.writeString(f, yaml);
    return NodeConfig.load(f);
  }

  private String error(String yaml) {
    return assertThrows(ConfigException.class, () -> load(yaml)).getMessage().replace(dir.resolve("ca.yaml") + ": ",
        "");
  }

  @Test
  void settingsAreParsedOnceAndImmutable() throws Exception {
    Path f = dir.resolve("ca.yaml");
    Files.writeString(f, String.join("\n", "binary:", "  tls:", "    certFile: /t/node.crt", "    keyFile: /t/node.key",
        "    clientAuth: require", "ca:", "  keyType: p384", "  exchangeValidityDays: 9", "  oaepHash: SHA-256",
        "timers:", "  certConfTimeoutSeconds: 42", "  secretValidityDays: 3", ""));
    NodeSettings s = NodeConfig.load(f, Environment.of(java.util.Map.of("KEYARC_PKCS11_MODULE", "/env/p11.so",
        "KEYARC_PIN_DIR", "/env/pins"))).settings();
    assertEquals(NodeSettings.ClientAuth.REQUIRE, s.binary().tls().clientAuth());
    assertEquals(Path.of("/t/node.key"), s.binary().tls().keyFile());
    assertEquals(org.keyarc.hsm.KeySpec.EC_P384, s.ca().keyType());
    assertEquals(java.time.Duration.ofDays(9), s.ca().exchangeValidity());
    assertEquals(org.keyarc.hsm.OaepHash.SHA256, s.ca().oaepHash());
    assertEquals(java.time.Duration.ofSeconds(42), s.timers().certConfTimeout());
    assertEquals(java.time.Duration.ofDays(3), s.timers().secretValidity());
    assertEquals(Path.of("/env/p11.so"), s.hsm().module(), "the module comes from the given environment");
    assertEquals(Path.of("/env/pins/keyarc-ca.pin"), s.hsm().pinFile());
    assertTrue(s.templates().isEmpty());
    assertThrows(UnsupportedOperationException.class, () -> s.templates().add(null));
  }

  @Test
  void wireLimitsAndTheResponderKeyAreConfiguredAndBounded() throws Exception {
    NodeSettings s = load("hsm:\n  module: /x/lib.so\nlimits:\n  failuresPerPeerPerMinute: 7\n"
        + "  secretMaxFailures: 3\nca:\n  responderKeyType: p384\n  responderValidityDays: 10\n").settings();
    assertEquals(new NodeSettings.Limits(7, 10, 3), s.limits());
    assertEquals(org.keyarc.hsm.KeySpec.EC_P384, s.ca().responderKeyType());
    assertEquals(java.time.Duration.ofDays(10), s.ca().responderValidity());
    assertEquals(java.time.Duration.ofDays(7), s.ca().responderRenewBefore());
    assertEquals("field 'limits.secretMaxFailures' must be 1..10, not 0",
        error("hsm:\n  module: /x/lib.so\nlimits:\n  secretMaxFailures: 0\n"));
    assertEquals("field 'limits.failuresPerPeerPerMinute' must be at least 1, not 0",
        error("hsm:\n  module: /x/lib.so\nlimits:\n  failuresPerPeerPerMinute: 0\n"));
    assertEquals("field 'ca.responderRenewBeforeDays' must be 0 or more and less than ca.responderValidityDays (5)",
        error("hsm:\n  module: /x/lib.so\nca:\n  responderValidityDays: 5\n  responderRenewBeforeDays: 5\n"));
  }

  /** Modules that need C_Initialize arguments (NSS softoken), and an HSM vendor's code for RFC 5649. */
  @Test
  void initArgumentsAndAVendorKwpCodeAreConfigured() throws Exception {
    NodeSettings s = load("hsm:\n  module: /x/lib.so\n  initArgs: \"configdir='sql:/d'\"\n"
        + "  kwpMechanism: 0x80000171\n").settings();
    assertEquals("configdir='sql:/d'", s.hsm().initArgs());
    assertEquals(0x80000171L, s.hsm().kwpMechanism());
    assertEquals(0, load("hsm:\n  module: /x/lib.so\n").settings().hsm().kwpMechanism(), "the token's own choice");
    assertEquals("field 'hsm.kwpMechanism' must be a mechanism code in hex such as 0x210B, not 'wrap'",
        error("hsm:\n  module: /x/lib.so\n  kwpMechanism: wrap\n"));
  }

  /** A separate archival token: read with its PIN file; the CA token named again is refused. */
  @Test
  void anArchivalTokenIsConfiguredBesideTheCaToken() throws Exception {
    NodeSettings s = load("hsm:\n  module: /x/lib.so\n  token: ca-part\n  archivalToken: pkcs11:token=archive\n"
        + "  archivalPinFile: /p/archive.pin\n").settings();
    assertEquals("pkcs11:token=archive", s.hsm().archivalToken());
    assertEquals(java.nio.file.Path.of("/p/archive.pin"), s.hsm().archivalPinFile());
    assertEquals(null, load("hsm:\n  module: /x/lib.so\n").settings().hsm().archivalToken(), "the CA token");
    assertEquals("field 'hsm.archivalToken' names the CA token itself; leave it out to archive on the CA token",
        error("hsm:\n  module: /x/lib.so\n  token: ca-part\n  archivalToken: ca-part\n"));
  }

  @Test
  void settingsValidateAConfigurationChangedAfterLoading() throws Exception {
    NodeConfig c = load("hsm:\n  module: /x/lib.so\n");
    c.timers.crlValidityHours = 0;
    ConfigException e = assertThrows(ConfigException.class, c::settings);
    assertTrue(e.getMessage().contains("timers.crlValidityHours"), e.getMessage());
  }

  @Test
  void tlsIsTheDefaultWithTheNodesOwnCertificate() throws Exception {
    NodeSettings s = load("hsm:\n  module: /x/lib.so\n").settings();
    assertTrue(s.binary().tls() != null && s.binary().tls().own(), "binary listener: TLS, the node's certificate");
    assertTrue(s.http().tls() != null && s.http().tls().own(), "HTTPS listener: TLS, the node's certificate");
    assertEquals(8443, s.http().tlsPort());
    assertTrue(!s.binary().allowSecretsInClear() && !s.http().allowSecretsInClear(), "no secrets in clear");
    NodeSettings anyPort = load("hsm:\n  module: /x/lib.so\nhttp:\n  port: 0\n").settings();
    assertEquals(0, anyPort.http().tlsPort(), "http.port 0 (tests, the demo): HTTPS on a free port too");
  }

  @Test
  void tlsCanBeTurnedOffOnlyByName() throws Exception {
    NodeSettings s = load(String.join("\n", "hsm:", "  module: /x/lib.so", "binary:", "  tls: {enabled: false}",
        "  allowSecretsInClear: true", "http:", "  tls:", "    enabled: false", "")).settings();
    assertEquals(null, s.binary().tls());
    assertTrue(s.binary().allowSecretsInClear());
    assertEquals(null, s.http().tls());
    assertEquals("field 'binary.tls.keyFile' is required with binary.tls.certFile (leave both out for the node's own "
        + "certificate)", error("binary:\n  tls:\n    certFile: /t/node.crt\n"));
    assertTrue(error("binary:\n  tls:\n").startsWith("field 'binary.tls' is empty"), error("binary:\n  tls:\n"));
    assertEquals("field 'http.tlsPort' must differ from http.port (8080): HTTPS is a listener of its own",
        error("http:\n  tlsPort: 8080\n"));
    assertTrue(error("http:\n  tls:\n    names: ['*.example']\n").startsWith("field 'http.tls.names' '*.example' is "
        + "not"), error("http:\n  tls:\n    names: ['*.example']\n"));
  }

  @Test
  void theStoreUrlCarriesNoPasswordAndRemotePostgresNeedsVerifiedTls() throws Exception {
    assertTrue(error("store:\n  url: jdbc:postgresql://db.example/keyarc?user=k&password=hunter2\n")
        .startsWith("field 'store.url' must not carry the password"));
    assertTrue(error("store:\n  url: jdbc:postgresql://db.example/keyarc\n")
        .startsWith("field 'store.url' connects to PostgreSQL on another host without verified TLS"));
    load("store:\n  url: jdbc:postgresql://db.example/keyarc?sslmode=verify-full\n");
    load("store:\n  url: jdbc:postgresql://127.0.0.1:5432/keyarc\n");
    load("store:\n  url: jdbc:postgresql://db.example/keyarc\n  allowPlaintext: true\n");
  }

  @Test
  void defaultsApply() throws Exception {
    NodeConfig c = load("hsm:\n  module: /x/lib.so\n");
    assertEquals(8700, c.binary.port);
    assertEquals("keyarc-ca", c.hsm.token);
    assertEquals(dir.resolve("ca-data").toString(), c.dataDir);
    assertEquals("p256", c.ca.keyType);
  }

  @Test
  void templatesFromTheConfigurationAddAndReplace() throws Exception {
    NodeConfig c = load(String.join("\n", "templates:",
        "  - name: WebServer",
        "    validityDays: 90",
        "    keyUsage: [digitalSignature]",
        "    extendedKeyUsage: [serverAuth]",
        "    ecCurves: [P-256]",
        "    rsaMinBits: 3072",
        "  - name: KeyRecoveryAgent",
        "    requiresApproval: false",
        ""));
    Templates t = Templates.of(c.configuredTemplates());
    Template web = t.find("WebServer").orElseThrow();
    assertEquals(90, web.validity().toDays());
    assertEquals(KeyUsage.digitalSignature, web.keyUsage());
    assertEquals(KeyPurposeId.id_kp_serverAuth.toOID(), web.extendedKeyUsages().get(0));
    assertEquals(3072, web.rsaMinBits());
    assertTrue(t.find("KeyRecoveryAgent").orElseThrow().requiresApproval(),
        "Key Recovery Agent certificates are always issued by hand");
  }

  @Test
  void errorsNameTheField() throws Exception {
    assertEquals("field 'binary.port' must be a TCP port (0 = any free port), not 70000",
        error("binary:\n  port: 70000\n"));
    assertTrue(error("binary:\n  prot: 1\n").startsWith("unknown field 'binary.prot'; known fields there: "));
    assertEquals("field 'templates[0].ecCurves' unknown curve 'P-999' (use P-256 or P-384)",
        error("templates:\n  - name: X\n    ecCurves: [P-999]\n"));
    assertEquals("field 'templates[0].rsaMinBits' must be 0 (no RSA) or at least 2048, not 1024",
        error("templates:\n  - name: X\n    rsaMinBits: 1024\n"));
    assertEquals("field 'ca.exchangeKeyType' 'p256' is not allowed here (use rsa2048, rsa3072 or rsa4096)",
        error("ca:\n  exchangeKeyType: p256\n"));
    assertTrue(error("timers:\n  crlIntervalMinutes: many\n").startsWith("field 'timers.crlIntervalMinutes': "));
    assertEquals("field 'templates[1].name' template 'A' is defined twice",
        error("templates:\n  - name: A\n  - name: A\n"));
  }
}
