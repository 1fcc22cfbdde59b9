package org.keyarc.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.ArchiveRecord;

/** What {@link RecoveryBlob#verify} accepts (the trusted CA's signature over an ArchiveRecord) and what it refuses. */
class RecoveryBlobTest {
  private static ArchiveFixture f;
  private static ArchiveFixture.Archived archived;

  @BeforeAll
  static void setUp() throws Exception {
    f = ArchiveFixture.create(List.of("a", "b", "c"));
    archived = f.archive(2, "a", "b", "c");
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aBlobSignedByTheTrustedCaParsesAndListsItsAgents() throws Exception {
    RecoveryBlob blob = RecoveryBlob.verify(archived.blob(), f.ca.cert());
    ArchiveRecord rec = blob.record();
    assertEquals(2, rec.threshold());
    assertEquals(archived.cert().getSerialNumber(), rec.certificateSerial());
    assertEquals(archived.cert(), blob.userCertificate());
    assertEquals(3, rec.agents().size());
    String[] names = {"a", "b", "c"};
    for (int i = 0; i < names.length; i++) {
      ArchiveFixture.Agent agent = f.agent(names[i]);
      assertEquals(agent.id(), rec.agents().get(i));
      assertEquals(agent.cert(), blob.certificate(rec.agents().get(i)));
      assertEquals("CN=Agent " + names[i] + " (serial " + agent.cert().getSerialNumber().toString(16) + ")",
          blob.agentName(i));
    }
    // one envelope per 2-subset, lexicographic, outermost agent first
    List<List<Integer>> order = new ArrayList<>();
    rec.envelopes().forEach(e -> order.add(e.agentIndexes()));
    assertEquals(List.of(List.of(0, 1), List.of(0, 2), List.of(1, 2)), order);
    assertEquals(5, blob.certificates().size(), "CA, the key's certificate, three agents");
    assertTrue(blob.certificates().contains(f.ca.cert()));
    assertArrayEquals(archived.blob(), blob.encoded());
  }

  @Test
  void aBlobSignedByAnotherCaIsRefused() throws Exception {
    ArchiveFixture.Ca other = ArchiveFixture.Ca.create("Another CA");
    byte[] der = ArchiveFixture.blob(other, archived.record(), archived.cert(), agents());
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the blob's signature does not verify with the CA certificate CN=Test Recovery CA: it was "
        + "altered, or comes from another CA", e.getMessage());
  }

  @Test
  void aBlobSignedByAnImpostorWithTheCasNameAndSerialIsRefused() throws Exception {
    // same issuer name and serial as the trusted CA certificate, so the signer id matches: only the key differs
    ArchiveFixture.Ca impostor = ArchiveFixture.Ca.create(f.ca.cert().getSubject(), f.ca.cert().getSerialNumber(),
        ArchiveFixture.rsa(2048));
    byte[] der = ArchiveFixture.blob(impostor, archived.record(), archived.cert(), agents());
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertTrue(e.getMessage().startsWith("the blob's signature does not verify with the CA certificate "
        + "CN=Test Recovery CA"), e.getMessage());
  }

  @Test
  void aBlobWhoseContentWasChangedIsRefused() throws Exception {
    byte[] der = archived.blob().clone();
    byte[] wrapped = archived.record().wrappedKey();
    int at = indexOf(der, wrapped);
    assertTrue(at > 0, "the wrapped key is in the blob");
    der[at + wrapped.length / 2] ^= 0x01; // one bit of the archived key's ciphertext
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertTrue(e.getMessage().contains("does not verify with the CA certificate") && e.getMessage().contains(
        "altered"), e.getMessage());
  }

  /**
   * Every single-bit change anywhere in a blob is refused — also in what the CA's signature does not cover: the
   * outer content type, the versions, the digest algorithms, each certificate's encoding and tags.
   */
  @Test
  void aFlippedBitAnywhereIsRefused() throws Exception {
    byte[] der = archived.blob();
    java.util.List<Integer> accepted = new java.util.ArrayList<>();
    for (int at = 0; at < der.length; at++) {
      for (int bit : new int[] {0x01, 0x80}) {
        byte[] b = der.clone();
        b[at] ^= (byte) bit;
        try {
          RecoveryBlob.verify(b, f.ca.cert());
          accepted.add(at);
        } catch (RecoveryException e) {
          // refused, as it must be
        }
      }
    }
    assertEquals(java.util.List.of(), accepted, "bytes whose changed bit was accepted");
  }

  @Test
  void aCertificateInTheBlobNotIssuedByTheCaIsRefused() throws Exception {
    // the signature does not cover the certificates field: a swapped-in agent certificate must be caught
    ArchiveFixture.Ca other = ArchiveFixture.Ca.create("Another CA");
    X509CertificateHolder foreign = other.issue("Agent a", ArchiveFixture.rsa(2048).getPublic(),
        ArchiveFixture.KEY_RECOVERY_AGENT, KeyUsage.keyEncipherment);
    List<X509CertificateHolder> certs = new ArrayList<>(List.of(f.ca.cert(), archived.cert(), foreign));
    byte[] der = f.ca.sign(RecoveryBlob.CONTENT_TYPE, archived.record().getEncoded("DER"), certs);
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("certificate " + foreign.getSerialNumber().toString(16) + " in the blob was not issued by "
        + "CN=Test Recovery CA: the blob was altered", e.getMessage());
  }

  @Test
  void signedDataOfAnotherContentTypeIsRefused() throws Exception {
    byte[] der = f.ca.sign(CMSObjectIdentifiers.data, archived.record().getEncoded("DER"), List.of(f.ca.cert()));
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_INPUT, e.code());
    assertEquals("the file is signed data, but not a keyarc archive record", e.getMessage());
  }

  @Test
  void aSignedContentThatIsNoArchiveRecordIsRefused() throws Exception {
    byte[] der = f.ca.sign(RecoveryBlob.CONTENT_TYPE, new org.bouncycastle.asn1.DERSequence().getEncoded("DER"),
        List.of(f.ca.cert()));
    RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(der, f.ca.cert()));
    assertEquals(ErrorCode.BAD_INPUT, e.code());
    assertTrue(e.getMessage().startsWith("the archive record in the blob cannot be read"), e.getMessage());
  }

  @Test
  void garbageIsRefused() throws Exception {
    byte[] random = new byte[512];
    new java.security.SecureRandom().nextBytes(random);
    random[0] = 0x30; // looks like a SEQUENCE, is none
    List<byte[]> inputs = List.of(new byte[0], "not a blob at all\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        random, archived.record().getEncoded("DER"), Arrays.copyOf(archived.blob(), archived.blob().length / 2));
    for (byte[] in : inputs) {
      RecoveryException e = assertThrows(RecoveryException.class, () -> RecoveryBlob.verify(in, f.ca.cert()),
          in.length + " bytes");
      assertEquals(ErrorCode.BAD_INPUT, e.code(), e.getMessage());
      assertTrue(e.getMessage().equals("the file is not a keyarc recovery blob (CMS SignedData)")
          || e.getMessage().startsWith("the blob is damaged or was altered"), e.getMessage());
    }
  }

  private static List<ArchiveFixture.Agent> agents() {
    return List.of(f.agent("a"), f.agent("b"), f.agent("c"));
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
