package org.keyarc.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.field;
import static org.keyarc.cli.CliTestSupport.keyarc;

/**
 * Issue 17: templates administered at runtime from the command line, on a running node, with no restart — the
 * seed's "duplicate the template and change it" as two commands, and the next enrollment uses it. A wrong value
 * is refused naming the field; every change raises the version and is audited; a disabled template is no longer
 * offered; only the administrator may change templates.
 */
class TemplateCliE2eTest {
  @Test
  void duplicateSetAndTheNextEnrollmentUsesItWithoutARestart() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("ca")) {
      Files.createDirectories(Path.of("target"));
      Path home = Files.createTempDirectory(Path.of("target"), "template-cli-").toAbsolutePath();
      System.setProperty("keyarc.home", home.toString());
      try {
        Path config = home.resolve("ca.yaml");
        Files.writeString(config, String.join("\n", "dataDir: " + home.resolve("data"), "hsm:",
            "  module: " + SoftHsmFixture.library(), "  token: " + hsm.label("ca"), "  pinFile: " + hsm.pinFile("ca"),
            "binary:", "  port: 0", "http:", "  port: 0", "ca:", "  subject: CN=Template Test CA, O=keyarc", ""));
        Run init = keyarc("ca", "init", "--config", config.toString(), "--admin", "CN=Tess Admin");
        assertEquals(0, init.exit(), init.err());
        try (CaNode node = CaNode.start(NodeConfig.load(config))) {
          String url = "tls://127.0.0.1:" + node.binaryPort();
          String[] tess = enroll(home, url, "tess", field(init.out(), "reference"), field(init.out(), "secret"));
          String[] asTess = {"--node", url, "--cert", tess[0], "--key", tess[1]};

          Run list = keyarc(cat(new String[] {"template", "list"}, asTess));
          assertEquals(0, list.exit(), list.err());
          assertTrue(list.out().matches("(?s).*User +version 1 +offered .*"), list.out());

          Run dup = keyarc(cat(new String[] {"template", "duplicate", "User", "ShortUser"}, asTess));
          assertEquals(0, dup.exit(), dup.err());
          assertTrue(dup.out().startsWith("template      ShortUser version 1 (offered)"), dup.out());
          Run set = keyarc(cat(new String[] {"template", "set", "ShortUser", "validityDays=30"}, asTess));
          assertEquals(0, set.exit(), set.err());
          assertTrue(set.out().startsWith("template      ShortUser version 2 (offered)"), set.out());

          // the next enrollment on it, on the same running node
          Run secret = keyarc(cat(new String[] {"secret", "create", "--template", "ShortUser", "--subject",
              "CN=Sid Short"}, asTess));
          assertEquals(0, secret.exit(), secret.err());
          String[] sid = enroll(home, url, "sid", field(secret.out(), "reference"), field(secret.out(), "secret"));
          X509CertificateHolder cert = CliFiles.readCertificate(Path.of(sid[0]));
          long days = Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()).toDays();
          assertEquals(30, days, "issued under version 2 of ShortUser");
          Run shown = keyarc(cat(new String[] {"cert", "show", cert.getSerialNumber().toString(16)}, asTess));
          assertTrue(shown.out().contains("\"template\" : \"ShortUser\"") && shown.out().contains(
              "\"templateVersion\" : 2"), "the certificate records its template and version: " + shown.out());

          // the seed's step: duplicate, tick "archive the subject's private key", and the next enrollment on the copy
          // must bring its key for archival (this CA has no agents yet, so it can only be refused for lack of it)
          assertEquals(0, keyarc(cat(new String[] {"template", "duplicate", "User", "UserKeyArc"}, asTess)).exit());
          Run arc = keyarc(cat(new String[] {"template", "set", "UserKeyArc", "archivePrivateKey=true"}, asTess));
          assertEquals(0, arc.exit(), arc.err());
          Run arcSecret = keyarc(cat(new String[] {"secret", "create", "--template", "UserKeyArc", "--subject",
              "CN=Ava Archive"}, asTess));
          assertEquals(0, arcSecret.exit(), arcSecret.err());
          Path avaSecret = home.resolve("ava.secret");
          Files.writeString(avaSecret, field(arcSecret.out(), "secret") + "\n");
          Run ava = keyarc("enroll", "--node", url, "--ref", field(arcSecret.out(), "reference"), "--secret-file",
              avaSecret.toString(), "--out-key", home.resolve("ava.key").toString(), "--out-cert",
              home.resolve("ava.crt").toString());
          assertEquals(45, ava.exit(), "an enrollment without its key for archival is refused: " + ava.err());

          Run bad = keyarc(cat(new String[] {"template", "set", "ShortUser", "validityDays=0"}, asTess));
          assertEquals(30, bad.exit(), bad.err());
          assertTrue(bad.err().contains("validityDays") && bad.err().contains("must be"), bad.err());
          Run unknown = keyarc(cat(new String[] {"template", "set", "ShortUser", "colour=blue"}, asTess));
          assertEquals(30, unknown.exit(), unknown.err());
          assertTrue(unknown.err().contains("field 'colour' is not a template setting"), unknown.err());
          // a copy of the agents' template would issue agent certificates without the manager's approval
          Run kra = keyarc(cat(new String[] {"template", "duplicate", "KeyRecoveryAgent", "QuickAgent"}, asTess));
          assertEquals(30, kra.exit(), kra.err());
          assertTrue(kra.err().contains("the Key Recovery Agent EKU is only for the KeyRecoveryAgent template"),
              kra.err());
          Run show = keyarc(cat(new String[] {"template", "show", "ShortUser"}, asTess));
          assertTrue(show.out().contains("\"validityDays\" : 30") && show.out().contains("version 2"), show.out());

          // a holder of a User certificate is no administrator
          Run notAdmin = keyarc("template", "set", "ShortUser", "validityDays=10", "--node", url, "--cert", sid[0],
              "--key", sid[1]);
          assertEquals(34, notAdmin.exit(), notAdmin.err());
          assertTrue(notAdmin.err().startsWith("keyarc: error 34 (not authorized)"), notAdmin.err());

          // export, edit the file, import: the change lands as the next version; a bad file changes nothing
          Path file = home.resolve("templates.json");
          Run exp = keyarc(cat(new String[] {"template", "export", file.toString()}, asTess));
          assertEquals(0, exp.exit(), exp.err());
          String edited = Files.readString(file).replace("\"validityDays\" : 30", "\"validityDays\" : 45");
          Files.writeString(file, edited);
          Run imp = keyarc(cat(new String[] {"template", "import", file.toString()}, asTess));
          assertEquals(0, imp.exit(), imp.err());
          assertTrue(imp.out().contains("imported      ShortUser version 3"), imp.out());
          Files.writeString(file, edited.replace("\"validityDays\" : 45", "\"validityDays\" : -1"));
          Run badFile = keyarc(cat(new String[] {"template", "import", file.toString()}, asTess));
          assertEquals(30, badFile.exit(), badFile.err());
          Run after = keyarc(cat(new String[] {"template", "show", "ShortUser"}, asTess));
          assertTrue(after.out().contains("\"validityDays\" : 45") && after.out().contains("version 3"), after.out());

          // a database writer loosens a template behind the CA's back: the seal breaks, the nodes keep what they had,
          // the finding is audited, and the administrator's next change is refused until a reseal
          try (java.sql.Connection c = ((org.keyarc.ca.store.jdbc.JdbcStore) node.services().store()).dataSource()
              .getConnection(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE template_def SET definition = REPLACE(definition, '\"validityDays\":45', "
                + "'\"validityDays\":3650'), version = version + 1 WHERE name = 'ShortUser'");
            c.commit();
          }
          long until = System.nanoTime() + 20_000_000_000L;
          Run changed = keyarc(cat(new String[] {"template", "set", "ShortUser", "validityDays=40"}, asTess));
          assertEquals(67, changed.exit(), "a change on tampered templates is refused: " + changed.err());
          Run s2 = keyarc(cat(new String[] {"secret", "create", "--template", "ShortUser", "--subject",
              "CN=Tim Tamper"}, asTess));
          assertEquals(0, s2.exit(), s2.err());
          String[] tim = enroll(home, url, "tim", field(s2.out(), "reference"), field(s2.out(), "secret"));
          X509CertificateHolder timCert = CliFiles.readCertificate(Path.of(tim[0]));
          assertEquals(45, Duration.between(timCert.getNotBefore().toInstant(), timCert.getNotAfter().toInstant())
              .toDays(), "the node kept the sealed definition, not the tampered one");
          boolean audited = false;
          while (!audited && System.nanoTime() < until) {
            audited = node.services().store().inTransaction(tx -> tx.audit().records(1, Long.MAX_VALUE)).stream()
                .anyMatch(x -> x.action().equals("template.tampered"));
            Thread.sleep(200);
          }
          assertTrue(audited, "the finding is audited");
          Run reseal = keyarc(cat(new String[] {"template", "reseal", "--note", "checked: 3650 days is wanted"},
              asTess));
          assertEquals(0, reseal.exit(), reseal.err());
          assertEquals(0, keyarc(cat(new String[] {"template", "set", "ShortUser", "validityDays=30"}, asTess)).exit());

          Run off = keyarc(cat(new String[] {"template", "disable", "ShortUser"}, asTess));
          assertEquals(0, off.exit(), off.err());
          Run refused = keyarc(cat(new String[] {"secret", "create", "--template", "ShortUser", "--subject",
              "CN=Sam Short"}, asTess));
          assertTrue(refused.exit() != 0 && refused.err().contains("unknown template 'ShortUser'"), refused.err());

        }
        try (CaNode.Resources r = CaNode.open(NodeConfig.load(config))) {
          long changes = r.store().inTransaction(tx -> tx.audit().records(1, Long.MAX_VALUE)).stream()
              .filter(x -> x.action().equals("template.change") && x.target().equals("template:ShortUser")).count();
          assertEquals(5, changes, "duplicate, set, import, set after the reseal and disable are audited (refused "
              + "changes are not)");
        }
      } finally {
        System.clearProperty("keyarc.home");
      }
    }
  }

  private static String[] enroll(Path home, String url, String name, String ref, String secret) throws Exception {
    Path s = home.resolve(name + ".secret");
    Files.writeString(s, secret + "\n");
    String cert = home.resolve(name + ".crt").toString();
    String key = home.resolve(name + ".key").toString();
    Run r = keyarc("enroll", "--node", url, "--ref", ref, "--secret-file", s.toString(), "--out-key", key,
        "--out-cert", cert);
    assertEquals(0, r.exit(), r.err());
    return new String[] {cert, key};
  }

  private static String[] cat(String[] a, String[] b) {
    return CaCliE2eTest.concat(a, b);
  }
}
