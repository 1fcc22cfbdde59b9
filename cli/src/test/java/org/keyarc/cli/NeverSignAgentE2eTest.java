package org.keyarc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;
import static org.keyarc.cli.RecoveryCliE2eTest.asAda;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.card;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.file;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.KeyHandle;

/**
 * A recovery agent whose key never signs (issue 15): {@code kra init-card --never-sign} makes the key unable to sign
 * from the start, and it proves possession by decrypting its certificate (RFC 4210 encrCert). Until the card has
 * opened the certificate and its certConf named the hash, the approved certificate is UNCONFIRMED and no
 * administrator can make it an agent; afterwards it is one, and an archived key is recovered with that card alone.
 */
class NeverSignAgentE2eTest {

  @BeforeAll
  static void setUp() throws Exception {
    RecoveryCliE2eTest.start("kra4");
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
  }

  @Test
  void anAgentKeyThatNeverSignsProvesPossessionByDecryptingItsCertificate() throws Exception {
    String[] s = RecoveryCliE2eTest.secret(asAda, "KeyRecoveryAgent", "CN=Agent kra4", "kra4");
    String[] kra4 = cat(card("kra4"), "--node", RecoveryCliE2eTest.url, "--ref", s[0], "--secret-file", s[1]);
    Run pending = ok(cat(cat(kra4, "--subject", "CN=Agent kra4", "--never-sign"), "kra", "init-card"));
    assertTrue(pending.out().contains("unable to sign from the start")
        && pending.out().contains("signing       refused by the card") && pending.out().contains("pending"),
        pending.out());
    try (var t = RecoveryCliE2eTest.hsm.open("kra4", 1)) {
      var attrs = t.call(x -> x.attributes(x.findKey(KeyHandle.KeyClass.PRIVATE, "kra-key")));
      assertTrue(attrs.sensitive() && !attrs.extractable() && !attrs.sign() && attrs.decrypt(), attrs.toString());
    }

    Run list = ok(cat(asMax, "request", "list"));
    Matcher id = Pattern.compile("(?m)^(\\d+)\\s+pending\\s+KeyRecoveryAgent\\s+CN=Agent kra4").matcher(list.out());
    assertTrue(id.find(), list.out());
    Run shown = ok(cat(asMax, "request", "show", id.group(1)));
    assertTrue(shown.out().contains("decryption: the certificate went back encrypted to the key")
        && shown.out().contains("\"tokenLabel\""), shown.out());
    Run approved = ok(cat(asMax, "request", "approve", id.group(1)));
    String serial = approved.out().replaceAll("(?s).*certificate ([0-9a-f]+) for.*", "$1").trim();

    // approved, but possession is not proven yet: no administrator can make it an agent
    Run early = keyarc(cat(asAda, "kra", "add", "--serial", serial));
    assertEquals(30, early.exit(), early.out() + early.err());
    assertTrue(early.err().contains("not confirmed by its requester: possession of the key is not proven yet"),
        early.err());
    // nor can the manager read the certificate (whose hash certConf names) before the card opened it
    Run pem = keyarc(cat(asMax, "cert", "show", serial, "--pem"));
    assertEquals(41, pem.exit(), pem.out() + pem.err());
    assertTrue(pem.err().contains("is waiting for its requester's certConf") && !pem.out().contains("BEGIN"),
        pem.err());
    Run json = ok(cat(asMax, "cert", "show", serial));
    assertTrue(json.out().contains("\"withheld\"") && !json.out().contains("\"sha256\""), json.out());

    // the card opens the certificate; the certConf with its hash makes it count
    Run got = ok(cat(cat(kra4, "--resume"), "kra", "init-card"));
    assertTrue(got.out().contains("serial " + serial) && got.out().contains("stored on card '"
        + RecoveryCliE2eTest.hsm.label("kra4") + "'"), got.out());
    var rec = RecoveryCliE2eTest.node.services().store().inTransaction(tx -> tx.certificates().find(
        RecoveryCliE2eTest.node.services().keys().caName().toString(), new java.math.BigInteger(serial, 16)))
        .orElseThrow();
    assertEquals(org.keyarc.ca.store.CertRecord.Status.ISSUED, rec.status());
    // the certificate of a key that never signs has no signing key usage
    var cert = new org.bouncycastle.cert.X509CertificateHolder(rec.der());
    var ku = org.bouncycastle.asn1.x509.KeyUsage.fromExtensions(cert.getExtensions());
    assertTrue(ku.hasUsages(org.bouncycastle.asn1.x509.KeyUsage.keyEncipherment)
        && !ku.hasUsages(org.bouncycastle.asn1.x509.KeyUsage.digitalSignature), ku.toString());

    // the card's trial found no OAEP with SHA-256 (SoftHSM2): its certificate lists SHA-1 only, and so does the
    // exchange certificate of a CA on SoftHSM2
    assertTrue(pending.out().contains("RSA-OAEP SHA-256 not offered"), pending.out());
    assertEquals(org.keyarc.hsm.OaepHash.SHA1, org.keyarc.protocol.OaepCapabilities.preferred(cert));
    assertEquals(org.keyarc.hsm.OaepHash.SHA1, org.keyarc.protocol.OaepCapabilities.preferred(
        RecoveryCliE2eTest.node.services().keys().exchanges().get(0).cert()));
    Run added = ok(cat(asAda, "kra", "add", "--serial", serial));
    assertTrue(added.out().contains("possession    decryption") && added.out().contains("card          '"
        + RecoveryCliE2eTest.hsm.label("kra4") + "'"), added.out());

    // an agent like any other: a key archived to the four is recovered with this card alone
    ok(cat(asAda, "kra", "policy", "--agents", "4", "--threshold", "1"));
    String user = RecoveryCliE2eTest.archiveUser("CN=Nora Neversign", "rsa2048", "nora");
    assertTrue(RecoveryCliE2eTest.lastArchival.contains("RSA-OAEP SHA-1"), RecoveryCliE2eTest.lastArchival);
    Path blob = RecoveryCliE2eTest.home.resolve("nora.blob");
    ok(cat(asMax, "getkey", "--serial", user, "--out", blob.toString()));
    Path p12 = RecoveryCliE2eTest.home.resolve("nora.p12");
    Path pw = file("nora.pw", "never-signed-Passw0rd");
    Run last = ok(cat(card("kra4"), "recoverkey", blob.toString(), "--out", p12.toString(), "--password-file",
        pw.toString()));
    assertTrue(last.out().contains("key           recovered and checked"), last.out());
    RecoveryCliE2eTest.assertPkcs12MatchesCertificate(p12, pw, "nora");
    assertFalse(Files.exists(RecoveryCliE2eTest.home.resolve("kra-" + RecoveryCliE2eTest.hsm.label("kra4") + "-.pending")));
  }
}
