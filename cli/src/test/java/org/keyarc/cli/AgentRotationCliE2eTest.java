package org.keyarc.cli;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.CeremonyWork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;
import static org.keyarc.cli.RecoveryCliE2eTest.archiveUser;
import static org.keyarc.cli.RecoveryCliE2eTest.asAda;
import static org.keyarc.cli.RecoveryCliE2eTest.asMax;
import static org.keyarc.cli.RecoveryCliE2eTest.card;
import static org.keyarc.cli.RecoveryCliE2eTest.cat;
import static org.keyarc.cli.RecoveryCliE2eTest.file;
import static org.keyarc.cli.RecoveryCliE2eTest.ok;

/**
 * Issue 18, agent rotation and drills, end to end with the CLI, SoftHSM2 cards and a node: keys archived to agents
 * A, B, C (kra1..3, 2 of 3) are re-wrapped by two of them to D and E (kra4, kra5, 2 of 2) and then recovered by D
 * and E alone; the node's store and every file that went through the node hold neither private key; a drill by D
 * and E proves the new records and drops the kept old ones; and the answers an attacker could change are refused.
 */
class AgentRotationCliE2eTest {
  static Path home;

  @BeforeAll
  static void setUp() throws Exception {
    RecoveryCliE2eTest.start("kra4", "kra5");
    home = RecoveryCliE2eTest.home;
  }

  @AfterAll
  static void tearDown() throws Exception {
    RecoveryCliE2eTest.tearDown();
  }

  @Test
  void archivesOfABCAreRecoveredByDAndEAloneAfterARotation() throws Exception {
    ok(cat(asAda, "kra", "policy", "--agents", "3", "--threshold", "2"));
    String rsa = archiveUser("CN=Rota Rsa", "rsa2048", "rota-rsa");
    String ec = archiveUser("CN=Rota Ec", "p256", "rota-ec");
    List<byte[]> secrets = new ArrayList<>(secrets("rota-rsa"));
    secrets.addAll(secrets("rota-ec"));
    // and the key of another CA's certificate, imported (external): rotated, recovered and drilled with the others
    Files.writeString(home.resolve("ext.ext"), "keyUsage=critical,keyEncipherment\n");
    assertEquals(0, RecoveryCliE2eTest.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "extca.key",
        "-out", "extca.crt", "-subj", "/CN=Retired KMS CA", "-days", "30").exit());
    assertEquals(0, RecoveryCliE2eTest.openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "rota-ext.key",
        "-out", "rota-ext.csr", "-subj", "/CN=Rota External").exit());
    assertEquals(0, RecoveryCliE2eTest.openssl("x509", "-req", "-in", "rota-ext.csr", "-CA", "extca.crt", "-CAkey",
        "extca.key", "-CAcreateserial", "-out", "rota-ext.crt", "-days", "30", "-extfile", "ext.ext").exit());
    Files.copy(home.resolve("rota-ext.key"), home.resolve("rota-ext.key.reference"));
    ok(cat(asMax, "archive", "import", "--pem-key", home.resolve("rota-ext.key").toString(), "--pem-cert",
        home.resolve("rota-ext.crt").toString()));
    Files.delete(home.resolve("rota-ext.key"));
    secrets.addAll(secrets("rota-ext"));
    String extHash = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(
        CliFiles.readCertificate(home.resolve("rota-ext.crt")).getEncoded()));

    // the administrator replaces the panel: D and E in, A, B, C out, 2 of 2
    String d = RecoveryCliE2eTest.addAgent("kra4");
    String e = RecoveryCliE2eTest.addAgent("kra5");
    for (String old : RecoveryCliE2eTest.agentSerials) {
      ok(cat(asAda, "kra", "remove", "--serial", old));
    }
    ok(cat(asAda, "kra", "policy", "--agents", "2", "--threshold", "2"));

    Run plan = ok(cat(asMax, "kra", "rotate", "--dry-run"));
    assertTrue(plan.out().contains(rsa) && plan.out().contains(ec) && plan.out().contains("2 of 3")
        && plan.out().contains("->  2 of 2 [" + d + ", " + e + "]") && plan.out().contains("nothing started"),
        plan.out());
    // only a certificate manager starts one
    assertEquals(34, keyarc(cat(asAda, "kra", "rotate", "--out", home.resolve("x.work").toString())).exit());

    Path work = home.resolve("rota.work");
    Run started = ok(cat(asMax, "kra", "rotate", "--out", work.toString()));
    assertTrue(started.out().contains("started       rotation") && started.out().contains("3 archives"),
        started.out());
    // a changed order is refused before the card is opened
    byte[] bytes = Files.readAllBytes(work);
    CeremonyWork parsed = CeremonyWork.parse(bytes);
    byte[] order = parsed.order().clone();
    order[order.length / 2] ^= 1;
    Path forged = home.resolve("rota.forged");
    Files.write(forged, new CeremonyWork(order, parsed.items()).encoded());
    Run refused = keyarc(cat(card("kra1"), "kra", "step", forged.toString()));
    assertTrue(refused.exit() == 35 || refused.exit() == 36, refused.out() + refused.err());
    assertFalse(refused.out().contains("card          "), "refused before the card: " + refused.out());

    // two of the old agents do their steps; the second one's finishes both archives
    Path one = home.resolve("rota.1");
    Run s1 = ok(cat(card("kra1"), "kra", "step", work.toString(), "--next", one.toString()));
    assertTrue(s1.out().contains("re-wraps to   2 of 2: CN=Agent kra4") && s1.out().contains("3 archives stepped, "
        + "0 finished") && s1.out().contains("policy        2 of 3 -> 2 of 2"), s1.out());
    Path two = home.resolve("rota.2");
    Run s2 = ok(cat(card("kra3"), "kra", "step", one.toString(), "--next", two.toString()));
    assertTrue(s2.out().contains("3 archives stepped, 3 finished") && s2.out().contains("kra submit"), s2.out());

    // an answer whose envelopes were changed after the agents' proof is refused, and can be answered again
    Path tampered = home.resolve("rota.tampered");
    CeremonyWork done = CeremonyWork.parse(Files.readAllBytes(two));
    List<CeremonyWork.Item> items = new ArrayList<>(done.items());
    CeremonyWork.Item first = items.get(0);
    List<ArchiveRecord.Envelope> envs = new ArrayList<>(first.result().envelopes());
    ArchiveRecord.Envelope env = envs.get(0);
    byte[] hash = env.innerLayerHashes().get(0).clone(); // the layer the second agent would peel, said otherwise
    hash[3] ^= 1;
    envs.set(0, new ArchiveRecord.Envelope(env.agentIndexes(), env.keyWrap(), env.layers(), List.of(hash)));
    items.set(0, new CeremonyWork.Item(first.blob(), null, new CeremonyWork.Result(first.result().proofAlgorithm(),
        first.result().proof(), envs)));
    Files.write(tampered, new CeremonyWork(done.order(), items.subList(0, 1)).encoded());
    Run bad = keyarc(cat(asMax, "kra", "submit", tampered.toString()));
    assertEquals(36, bad.exit(), bad.out() + bad.err());
    assertTrue(bad.out().contains("REFUSED") && bad.out().contains("the proof does not verify"), bad.out());

    Run submitted = ok(cat(asMax, "kra", "submit", two.toString()));
    assertTrue(submitted.out().contains("3 accepted, 0 refused"), submitted.out());
    Run again = keyarc(cat(asMax, "kra", "submit", two.toString()));
    assertTrue(again.exit() != 0 && again.out().contains("done already"), again.out());
    Run nothingLeft = ok(cat(asMax, "kra", "rotate", "--dry-run"));
    assertTrue(nothingLeft.out().contains("nothing to do"), nothingLeft.out());

    // the node never held either key: not in its store, not in any file that went to or came from it
    assertNoSecretInStore(secrets);
    for (Path f : List.of(work, one, two)) {
      assertNoSecretIn(Files.readAllBytes(f), secrets, f.toString());
    }

    // D and E alone recover both keys from the new records
    Path extBlob = home.resolve("rota-ext.blob");
    Run gotExt = ok(cat(asMax, "getkey", "--sha256", extHash, "--out", extBlob.toString()));
    assertTrue(gotExt.out().contains("2 of 2 agents"), gotExt.out());
    Path extPw = file("rota-ext.pw", "rota-Passw0rd");
    ok(cat(card("kra4"), "recoverkey", extBlob.toString(), "--next", home.resolve("rota-ext.step").toString()));
    ok(cat(card("kra5"), "recoverkey", home.resolve("rota-ext.step").toString(), "--out",
        home.resolve("rota-ext.p12").toString(), "--password-file", extPw.toString()));
    RecoveryCliE2eTest.assertPkcs12MatchesCertificate(home.resolve("rota-ext.p12"), extPw, "rota-ext");
    for (String[] k : new String[][] {{rsa, "rota-rsa"}, {ec, "rota-ec"}}) {
      Path blob = home.resolve(k[1] + ".blob");
      Run got = ok(cat(asMax, "getkey", "--serial", k[0], "--out", blob.toString()));
      assertTrue(got.out().contains("2 of 2 agents"), got.out());
      Path pw = file(k[1] + ".pw", "rota-Passw0rd");
      Path p12 = home.resolve(k[1] + ".p12");
      Run bad1 = keyarc(cat(card("kra1"), "recoverkey", blob.toString(), "--next", home.resolve(k[1] + ".x")
          .toString()));
      assertEquals(15, bad1.exit(), "an old agent's card opens nothing of the new record: " + bad1.out() + bad1.err());
      ok(cat(card("kra4"), "recoverkey", blob.toString(), "--next", home.resolve(k[1] + ".step").toString()));
      ok(cat(card("kra5"), "recoverkey", home.resolve(k[1] + ".step").toString(), "--out", p12.toString(),
          "--password-file", pw.toString()));
      RecoveryCliE2eTest.assertPkcs12MatchesCertificate(p12, pw, k[1]);
      // the record from before is kept until a drill passes: the old agents could still use it
      ok(cat(asMax, "getkey", "--serial", k[0], "--previous", "--out", home.resolve(k[1] + ".old").toString()));
      ok(cat(card("kra1"), "recoverkey", home.resolve(k[1] + ".old").toString(), "--next",
          home.resolve(k[1] + ".old.step").toString()));
    }

    // a second rotation (to 1 of 2) before a drill would lose the kept record: refused
    ok(cat(asAda, "kra", "policy", "--agents", "2", "--threshold", "1"));
    Run early = keyarc(cat(asMax, "kra", "rotate", "--serial", rsa, "--out", home.resolve("early.work").toString()));
    assertTrue(early.exit() == 30 && early.err().contains("drill it first"), early.out() + early.err());
    ok(cat(asAda, "kra", "policy", "--agents", "2", "--threshold", "2"));

    // someone who holds the archived key (its owner, say) cannot fake a drill without the agents: the proof of K fails
    Path fakeWork = home.resolve("fake.work");
    ok(cat(asMax, "kra", "drill", "--serial", rsa, "--out", fakeWork.toString()));
    CeremonyWork fw = CeremonyWork.parse(Files.readAllBytes(fakeWork));
    org.keyarc.protocol.archive.CeremonyOrder fo = org.keyarc.protocol.archive.CeremonyOrder.parse((byte[])
        new org.bouncycastle.cms.CMSSignedData(fw.order()).getSignedContent().getContent());
    java.security.Signature sig = java.security.Signature.getInstance("SHA256withRSA");
    sig.initSign(CliFiles.readPrivateKey(home.resolve("rota-rsa.key.reference")));
    sig.update(fo.proofMessage(fo.archives().get(0), new byte[0]));
    Path faked = home.resolve("fake.answered");
    Files.write(faked, new CeremonyWork(fw.order(), List.of(new CeremonyWork.Item(fw.items().get(0).blob(), null,
        new CeremonyWork.Result(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha256WithRSAEncryption), sig.sign(), List.of()))))
        .encoded());
    Run fake = keyarc(cat(asMax, "kra", "submit", faked.toString()));
    assertTrue(fake.exit() == 36 && fake.out().contains("proof of K"), fake.out() + fake.err());

    // a drill by D and E proves the new records (the refused one is taken over); the kept old ones are dropped
    Path drill = home.resolve("drill.work");
    Run dr = ok(cat(asMax, "kra", "drill", "--unverified", "--out", drill.toString()));
    assertTrue(dr.out().contains("started       drill") && dr.out().contains("3 archives"), dr.out());
    ok(cat(card("kra4"), "kra", "step", drill.toString(), "--next", home.resolve("drill.1").toString()));
    Run last = ok(cat(card("kra5"), "kra", "step", home.resolve("drill.1").toString(), "--next",
        home.resolve("drill.2").toString()));
    assertTrue(last.out().contains("3 finished"), last.out());
    Run passed = ok(cat(asMax, "kra", "submit", home.resolve("drill.2").toString()));
    assertTrue(passed.out().contains("3 accepted") && passed.out().contains("reached its key K"), passed.out());
    assertNoSecretIn(Files.readAllBytes(home.resolve("drill.2")), secrets, "drill.2");
    Run gone = keyarc(cat(asMax, "getkey", "--serial", rsa, "--previous", "--out", home.resolve("gone").toString()));
    assertEquals(41, gone.exit(), gone.out() + gone.err());
    // the same through the node: D and E, each with its personal certificate (recovery_agent) and card, online
    for (String name : List.of("kra4", "kra5")) {
      String[] id = RecoveryCliE2eTest.secret("User", "CN=Agent " + name, "id-" + name);
      ok("enroll", "--node", RecoveryCliE2eTest.url, "--ref", id[0], "--secret-file", id[1], "--out-key",
          home.resolve("id-" + name + ".key").toString(), "--out-cert", home.resolve("id-" + name + ".crt").toString());
      ok(cat(asAda, "role", "grant", "--role", "recovery_agent", "--subject", "CN=Agent " + name));
    }
    Run online = ok(cat(asMax, "kra", "drill", "--serial", ec, "--out", home.resolve("online.work").toString()));
    String onlineId = online.out().replaceAll("(?s).*started       drill (\\d+) .*", "$1");
    Run notAgent = keyarc(cat(cat(asMax, card("kra4")), "kra", "step-online", onlineId));
    assertEquals(34, notAgent.exit(), notAgent.out() + notAgent.err());
    Run on1 = ok(cat(cat(RecoveryCliE2eTest.asAgent("kra4"), card("kra4")), "kra", "step-online", onlineId));
    assertTrue(on1.out().contains("handed back   ceremony " + onlineId + " to the node for the next agent"),
        on1.out());
    Run on2 = ok(cat(cat(RecoveryCliE2eTest.asAgent("kra5"), card("kra5")), "kra", "step-online", onlineId));
    assertTrue(on2.out().contains("1 accepted, 0 refused") && on2.out().contains("reached its key K"), on2.out());

    // the manager starts the online file again from the blobs: the first agent's step is to do again
    Run again2 = ok(cat(asMax, "kra", "drill", "--serial", rsa, "--out", home.resolve("online2.work").toString()));
    String id2 = again2.out().replaceAll("(?s).*started       drill (\\d+) .*", "$1");
    ok(cat(cat(RecoveryCliE2eTest.asAgent("kra4"), card("kra4")), "kra", "step-online", id2));
    ok(cat(asMax, "kra", "drill", "--resume", id2, "--restart-online", "--out", home.resolve("online2.again")
        .toString()));
    Run redo = ok(cat(cat(RecoveryCliE2eTest.asAgent("kra4"), card("kra4")), "kra", "step-online", id2));
    assertTrue(redo.out().contains("1 archive stepped"), "the file started again: " + redo.out());
    ok(cat(cat(RecoveryCliE2eTest.asAgent("kra5"), card("kra5")), "kra", "step-online", id2));

    // a rogue agent cannot empty the online file, nor replace a file another agent handed back meanwhile
    Run third = ok(cat(asMax, "kra", "drill", "--serial", ec, "--out", home.resolve("online3.work").toString()));
    long id3 = Long.parseLong(third.out().replaceAll("(?s).*started       drill (\\d+) .*", "$1"));
    var ceremonies = RecoveryCliE2eTest.node.services().ceremonies();
    var rogue = new org.keyarc.ca.auth.Identity(org.keyarc.ca.auth.Identity.Kind.CERTIFICATE, "CN=Agent kra4",
        java.util.Set.of(org.keyarc.ca.store.Role.RECOVERY_AGENT));
    var m = ceremonies.material(rogue, id3);
    byte[] empty = new CeremonyWork(CeremonyWork.parse(m.work()).order(), List.of()).encoded();
    assertEquals(org.keyarc.protocol.ErrorCode.BAD_INPUT, org.junit.jupiter.api.Assertions.assertThrows(
        org.keyarc.ca.CaException.class, () -> ceremonies.onlineStep(rogue, id3, "x", empty, m.version())).code());
    assertEquals(org.keyarc.protocol.ErrorCode.BAD_REQUEST, org.junit.jupiter.api.Assertions.assertThrows(
        org.keyarc.ca.CaException.class, () -> ceremonies.onlineStep(rogue, id3, "x", m.work(), m.version() - 1))
        .code());
    var stranger = new org.keyarc.ca.auth.Identity(org.keyarc.ca.auth.Identity.Kind.CERTIFICATE, "CN=Not An Agent",
        java.util.Set.of(org.keyarc.ca.store.Role.RECOVERY_AGENT));
    assertEquals(org.keyarc.protocol.ErrorCode.NOT_AUTHORIZED, org.junit.jupiter.api.Assertions.assertThrows(
        org.keyarc.ca.CaException.class, () -> ceremonies.material(stranger, id3)).code());

    Run list = ok(cat(asMax, "kra", "ceremonies"));
    assertTrue(list.out().contains("rotation  3 of 3 done") && list.out().contains("drill     3 of 3 done")
        && list.out().contains("drill     0 of 1 done") && list.out().contains("drill     1 of 1 done"), list.out());
    Run audit = ok(cat(asAda, "kra", "ceremonies", "1"));
    assertTrue(audit.out().contains("done") && audit.out().contains("to=2 of 2"), audit.out());
    var records = RecoveryCliE2eTest.node.services().store().inTransaction(tx -> tx.audit().records(0,
        Long.MAX_VALUE));
    assertEquals(3, records.stream().filter(r -> r.action().equals("key.rotate")).count());
    assertEquals(5, records.stream().filter(r -> r.action().equals("key.drill")).count());
    assertEquals(5, records.stream().filter(r -> r.action().equals("kra.ceremony.step")).count());
    assertEquals(2, records.stream().filter(r -> r.action().equals("kra.ceremony.refused")).count());
    // the archives were made with a verifier (record version 3), which the rotation kept
    byte[] record = RecoveryCliE2eTest.node.services().store().inTransaction(tx -> tx.archives().bySerial(
        "CN=Recovery Test CA", new BigInteger(rsa, 16))).get(0).record();
    assertTrue(ArchiveRecord.getInstance(record).verifier() != null && ArchiveRecord.getInstance(record).agents()
        .size() == 2);
  }

  /** The lost key's PKCS#8 and its private exponent or scalar. */
  static List<byte[]> secrets(String name) throws Exception {
    java.security.PrivateKey k = CliFiles.readPrivateKey(home.resolve(name + ".key.reference"));
    BigInteger x = k instanceof RSAPrivateCrtKey r ? r.getPrivateExponent() : ((ECPrivateKey) k).getS();
    byte[] raw = x.toByteArray();
    return List.of(k.getEncoded(), raw[0] == 0 ? Arrays.copyOfRange(raw, 1, raw.length) : raw);
  }

  static void assertNoSecretIn(byte[] data, List<byte[]> secrets, String where) {
    for (byte[] s : secrets) {
      assertFalse(indexOf(data, s) >= 0, "a private key is in " + where);
      assertFalse(new String(data, java.nio.charset.StandardCharsets.ISO_8859_1).toLowerCase().contains(
          HexFormat.of().formatHex(s)), "a private key (hex) is in " + where);
    }
  }

  /** Every value of every table of the node's store. */
  static void assertNoSecretInStore(List<byte[]> secrets) throws Exception {
    var ds = ((org.keyarc.ca.store.jdbc.JdbcStore) RecoveryCliE2eTest.node.services().store()).dataSource();
    int values = 0;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet t = st.executeQuery("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = "
          + "'PUBLIC'")) {
        while (t.next()) {
          tables.add(t.getString(1));
        }
      }
      assertTrue(tables.stream().anyMatch(t -> t.equalsIgnoreCase("archived_key")), tables.toString());
      for (String t : tables) {
        try (ResultSet rs = st.executeQuery("SELECT * FROM \"" + t + "\"")) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= n; i++) {
              Object o = rs.getObject(i);
              byte[] v = o instanceof byte[] b ? b : o == null ? new byte[0] : o.toString().getBytes(
                  java.nio.charset.StandardCharsets.ISO_8859_1);
              assertNoSecretIn(v, secrets, "table " + t);
              values++;
            }
          }
        }
      }
    }
    assertTrue(values > 100, "the store was read: " + values);
  }

  static int indexOf(byte[] data, byte[] s) {
    outer:
    for (int i = 0; i + s.length <= data.length; i++) {
      for (int j = 0; j < s.length; j++) {
        if (data[i + j] != s[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
