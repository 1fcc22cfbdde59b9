package org.keyarc.ca.e2e;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenSSL 3's {@code openssl cmp} against the HTTP transport: ir with -secret/-ref, cr with -cert/-key,
 * rr and genm. The certificates verify with {@code openssl verify}; the CRL reads with {@code openssl crl}.
 */
class OpensslCmpE2eTest {
  static TestCa ca;
  static Path dir;
  static String server;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
    dir = Files.createTempDirectory(ca.dir, "openssl-");
    StringWriter pem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
      w.writeObject(ca.caCert());
    }
    Files.writeString(dir.resolve("ca.crt"), pem.toString());
    server = "127.0.0.1:" + ca.node.httpPort();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  record Run(int exit, String output) {}

  static Run openssl(String... args) throws IOException, InterruptedException {
    return openssl(dir, args);
  }

  /** {@code openssl ARGS} run in {@code in}; what it printed, with standard error. */
  static Run openssl(Path in, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(in.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl finished");
    return new Run(p.exitValue(), out);
  }

  static Run cmp(String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("cmp", "-server", server, "-path", "/", "-trusted", "ca.crt"));
    all.addAll(List.of(args));
    return openssl(all.toArray(new String[0]));
  }

  static void ok(Run r) {
    assertEquals(0, r.exit(), r.output());
  }

  @Test
  void irCrRrGenmWithOpensslCmp() throws Exception {
    // ir with a one-time secret: PBM, reference in senderKID
    SecretService.NewSecret s = ca.secret("User", "CN=Olivia Openssl, O=keyarc");
    ok(openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "olivia.key"));
    ok(cmp("-cmd", "ir", "-ref", s.reference(), "-secret", "pass:" + new String(s.secret()),
        "-subject", "/O=keyarc/CN=Olivia Openssl", "-newkey", "olivia.key", "-certout", "olivia.crt"));
    Run verify = openssl("verify", "-CAfile", "ca.crt", "olivia.crt");
    ok(verify);
    assertTrue(verify.output().contains("olivia.crt: OK"), verify.output());

    // cr signed with that certificate, for a second (RSA) key
    ok(openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "second.key"));
    ok(cmp("-cmd", "cr", "-cert", "olivia.crt", "-key", "olivia.key", "-newkey", "second.key",
        "-subject", "/O=keyarc/CN=Olivia Openssl", "-certout", "second.crt"));
    ok(openssl("verify", "-CAfile", "ca.crt", "second.crt"));

    // rr of the second certificate, signed with itself
    Run rr = cmp("-cmd", "rr", "-cert", "second.crt", "-key", "second.key", "-oldcert", "second.crt",
        "-revreason", "1");
    ok(rr);
    assertTrue(rr.output().contains("revocation accepted"), rr.output());

    // genm: the CA certificates
    Run genm = cmp("-cmd", "genm", "-cert", "olivia.crt", "-key", "olivia.key");
    ok(genm);
    assertTrue(genm.output().contains("id-it-caCerts"), genm.output());

    // the CRL over HTTP reads with openssl crl, lists the serial, and makes openssl verify refuse the certificate
    HttpResponse<byte[]> crl = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + server
        + "/crl")).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, crl.statusCode());
    Files.write(dir.resolve("ca.crl"), crl.body());
    Run text = openssl("crl", "-inform", "DER", "-in", "ca.crl", "-noout", "-text");
    ok(text);
    String serial = openssl("x509", "-in", "second.crt", "-noout", "-serial").output().trim().split("=")[1];
    assertTrue(text.output().replace(":", "").toUpperCase().contains(serial.toUpperCase()), text.output());
    assertTrue(text.output().contains("Key Compromise"), text.output());
    ok(openssl("crl", "-inform", "DER", "-in", "ca.crl", "-out", "ca.crl.pem"));
    Run revoked = openssl("verify", "-crl_check", "-CAfile", "ca.crt", "-CRLfile", "ca.crl.pem", "second.crt");
    assertTrue(revoked.exit() != 0 && revoked.output().contains("certificate revoked"), revoked.output());
    ok(openssl("verify", "-crl_check", "-CAfile", "ca.crt", "-CRLfile", "ca.crl.pem", "olivia.crt"));
  }

  @Test
  void wrongSecretIsRefusedWithMacFailure() throws Exception {
    SecretService.NewSecret s = ca.secret("User", "CN=Wrong Secret");
    ok(openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "wrong.key"));
    // -unprotected_errors: since issue 12 the node answers a failed MAC unprotected (RFC 9810 allows it; an
    // answer MAC-protected with the real secret would be an oracle), and openssl reads such an error only with it
    Run r = cmp("-cmd", "ir", "-ref", s.reference(), "-secret", "pass:not-it", "-subject", "/CN=Wrong Secret",
        "-newkey", "wrong.key", "-certout", "wrong.crt", "-unprotected_errors");
    assertTrue(r.exit() != 0, r.output());
    assertTrue(r.output().contains("badMessageCheck") && r.output().contains("[keyarc 35]"), r.output());
    assertTrue(Files.notExists(dir.resolve("wrong.crt")));
  }
}
