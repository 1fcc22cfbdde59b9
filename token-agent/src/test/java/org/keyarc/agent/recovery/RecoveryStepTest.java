package org.keyarc.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.List;
import java.util.Map;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.HsmToken;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.RecoveryProgress;

/**
 * Recovery agents' steps on real SoftHSM2 cards: agents "a", "b", "c" hold archive-agent keys; the card
 * "stranger" holds an RSA key that is no agent's.
 */
class RecoveryStepTest {
  private static ArchiveFixture f;
  /** 2 of (a, b, c). */
  private static ArchiveFixture.Archived twoOfThree;
  private static RecoveryBlob blob;

  @BeforeAll
  static void setUp() throws Exception {
    f = ArchiveFixture.create(List.of("a", "b", "c"), "stranger");
    twoOfThree = f.archive(2, "a", "b", "c");
    blob = RecoveryBlob.verify(twoOfThree.blob(), f.ca.cert());
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void agentAThenAgentCRecoverTheKeyOfTwoOfThree() throws Exception {
    RecoveryStep.Result first = RecoveryStep.run(blob, null, card("a"));
    RecoveryStep.Result.Partial p = assertInstanceOf(RecoveryStep.Result.Partial.class, first);
    assertEquals(0, p.agentIndex());
    assertEquals(blob.agentName(0), p.agent());
    assertEquals(List.of(blob.agentName(1), blob.agentName(2)), p.needed());
    assertEquals(List.of(0), p.progress().done());
    assertEquals(2, p.progress().candidates().size(), "a is the outer layer of envelopes (a,b) and (a,c) only");
    assertArrayEquals(twoOfThree.blob(), p.progress().blob(), "the progress carries the blob unchanged");

    // the progress goes to the next agent as a file: its encoding round-trips
    RecoveryProgress handedOn = RecoveryProgress.parse(p.progress().encoded());
    assertNotNull(handedOn);
    RecoveryBlob again = RecoveryBlob.verify(handedOn.blob(), f.ca.cert());
    RecoveryStep.Result second = RecoveryStep.run(again, handedOn, card("c"));
    RecoveryStep.Result.Done done = assertInstanceOf(RecoveryStep.Result.Done.class, second);
    assertEquals(2, done.agentIndex());
    assertEquals(blob.agentName(2), done.agent());
    try (RecoveredKey key = done.key()) {
      assertTrue(key.toString().startsWith("RecoveredKey[1.2.840.10045.2.1, ")
          && key.toString().endsWith(" bytes, not shown]"), key.toString());
      byte[] pkcs8 = key.plaintext(RecoveredKey.Access.PKCS12_WRITER);
      assertTrue(ArchiveFixture.sameKey(pkcs8, twoOfThree.user().getPrivate()), "the archived key came back");
      // and it belongs to the certificate: a signature made with it verifies with the certificate's key
      PrivateKey priv = new JcaPEMKeyConverter().getPrivateKey(
          org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(pkcs8));
      PublicKey certKey = new JcaPEMKeyConverter().getPublicKey(blob.userCertificate().getSubjectPublicKeyInfo());
      assertTrue(signatureVerifies(priv, certKey));

      // what the agent gets in the end: a PKCS#12 the JDK reads, with the key and its certificate
      char[] password = "recovery-pass".toCharArray();
      byte[] pfx = Pkcs12Writer.build(key, blob.userCertificate(), List.of(f.ca.cert()), "recovered", password);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(new ByteArrayInputStream(pfx), password);
      PrivateKey fromPfx = (PrivateKey) ks.getKey("recovered", password);
      assertNotNull(fromPfx, "the PKCS#12 holds the key under its friendly name");
      assertTrue(signatureVerifies(fromPfx, ks.getCertificate("recovered").getPublicKey()));
      assertTrue(signatureVerifies(fromPfx, certKey));

      key.close();
      assertTrue(allZero(key.plaintext(RecoveredKey.Access.PKCS12_WRITER)), "close() wipes the key");
    }
  }

  @Test
  void theSameAgentTwiceIsRefused() throws Exception {
    RecoveryStep.Result.Partial p = (RecoveryStep.Result.Partial) RecoveryStep.run(blob, null, card("a"));
    RecoveryException e = assertThrows(RecoveryException.class,
        () -> RecoveryStep.run(blob, p.progress(), card("a")));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertEquals(blob.agentName(0) + " already did a step of this recovery; the next step needs "
        + blob.agentName(1) + " or " + blob.agentName(2), e.getMessage());
  }

  @Test
  void aCardOfNoAgentIsRefusedBeforeAnyCardOperation() throws Exception {
    HsmToken stranger = card("stranger");
    assertEquals(Map.of(), RecoveryStep.agentsOn(blob, stranger), "its RSA key matches no agent certificate");
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryStep.run(blob, null, stranger));
    assertEquals(ErrorCode.KEY_NOT_FOUND, e.code());
    assertEquals("card '" + stranger.label() + "' holds the key of none of this archive's recovery agents; the "
        + "agents who can serve are: " + blob.agentName(0) + ", " + blob.agentName(1) + ", " + blob.agentName(2)
        + " (2 of them needed)", e.getMessage());

    // the refusal needs no session on the card: on a closed token (where any card operation would fail with
    // "token is closed") the step is refused the same way
    HsmToken closed = f.hsm.open("stranger", 1);
    closed.close();
    RecoveryException onClosed = assertThrows(RecoveryException.class,
        () -> RecoveryStep.run(blob, null, closed, Map.of()));
    assertEquals(ErrorCode.KEY_NOT_FOUND, onClosed.code());
    assertEquals(e.getMessage(), onClosed.getMessage());
  }

  @Test
  void anAgentOutOfTurnIsRefused() throws Exception {
    // c is the last layer of every envelope it is in: it cannot go first
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryStep.run(blob, null, card("c")));
    assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
    assertEquals("card '" + card("c").label() + "' (" + blob.agentName(2) + ") cannot do the next step of this "
        + "recovery; it needs " + blob.agentName(0) + " or " + blob.agentName(1) + " first (agents go in the order "
        + "of the archive's agent list)", e.getMessage());
  }

  @Test
  void aLastStepWithTheProgressOfAnotherRecordIsRefused() throws Exception {
    ArchiveFixture.Archived other = f.archive(2, "a", "b", "c");
    RecoveryBlob otherBlob = RecoveryBlob.verify(other.blob(), f.ca.cert());
    RecoveryProgress otherProgress = ((RecoveryStep.Result.Partial) RecoveryStep.run(otherBlob, null, card("a")))
        .progress();
    RecoveryException e = assertThrows(RecoveryException.class,
        () -> RecoveryStep.run(blob, otherProgress, card("c")));
    assertEquals(ErrorCode.BAD_INPUT, e.code());
    // refused before c's card decrypts anything of the other record
    assertTrue(e.getMessage().contains("belongs to another archive"), e.getMessage());
  }

  /**
   * A partial recovery carries the blob it was made for; a step given another record's progress refuses it
   * before the card opens anything (a progress whose layers were forged for the right blob is the archive-format
   * binding's job, not this check's).
   */
  @Test
  void aMiddleStepWithTheProgressOfAnotherRecordIsRefused() throws Exception {
    ArchiveFixture.Archived mine = f.archive(3, "a", "b", "c");
    ArchiveFixture.Archived other = f.archive(3, "a", "b", "c");
    RecoveryBlob mineBlob = RecoveryBlob.verify(mine.blob(), f.ca.cert());
    RecoveryBlob otherBlob = RecoveryBlob.verify(other.blob(), f.ca.cert());
    RecoveryProgress otherProgress = ((RecoveryStep.Result.Partial) RecoveryStep.run(otherBlob, null, card("a")))
        .progress();
    RecoveryException e = assertThrows(RecoveryException.class,
        () -> RecoveryStep.run(mineBlob, otherProgress, card("b")));
    assertEquals(ErrorCode.BAD_INPUT, e.code());
    assertTrue(e.getMessage().contains("belongs to another archive"), e.getMessage());
  }

  /**
   * The reviewer's rogue agent: a partial recovery for archive Y (its blob) carrying archive X's layers, so that
   * an honest agent who means to help recover Y would peel X. The signed record of Y commits to its own layers.
   */
  @Test
  void aPartialRecoveryCarryingAnotherArchivesLayersIsRefused() throws Exception {
    ArchiveFixture.Archived x = f.archive(3, "a", "b", "c");
    ArchiveFixture.Archived y = f.archive(3, "a", "b", "c");
    RecoveryBlob xBlob = RecoveryBlob.verify(x.blob(), f.ca.cert());
    RecoveryBlob yBlob = RecoveryBlob.verify(y.blob(), f.ca.cert());
    RecoveryProgress xAfterA = ((RecoveryStep.Result.Partial) RecoveryStep.run(xBlob, null, card("a"))).progress();
    RecoveryProgress forged = new RecoveryProgress(yBlob.encoded(), xAfterA.done(), xAfterA.candidates());
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryStep.run(yBlob, forged, card("b")));
    assertEquals(ErrorCode.BAD_INPUT, e.code());
    assertTrue(e.getMessage().contains("not the ones this archive's signed record commits to"), e.getMessage());
  }

  private static HsmToken card(String name) throws Exception {
    return f.card(name);
  }

  private static boolean signatureVerifies(PrivateKey priv, PublicKey pub) throws Exception {
    String alg = priv.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    byte[] data = "proof of possession".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Signature s = Signature.getInstance(alg);
    s.initSign(priv);
    s.update(data);
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    v.initVerify(pub);
    v.update(data);
    return v.verify(sig);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }
}
