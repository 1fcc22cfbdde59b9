package org.keyarc.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.archive.ArchiveRecord;
import org.keyarc.protocol.archive.CeremonyOrder;
import org.keyarc.protocol.archive.CeremonyWork;

/**
 * The agents' side of a rotation or drill on SoftHSM2 cards: what {@link CeremonyStep#check} refuses before any card
 * is opened (an expired order, another CA's, a new agent without a Key Recovery Agent certificate, a lower threshold
 * not agreed to), and that a rotation's new envelopes really open with the new agent's card, down to the same key.
 */
class CeremonyStepTest {
  static ArchiveFixture f;

  @BeforeAll
  static void setUp() throws Exception {
    f = ArchiveFixture.create(List.of("a", "b", "c"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    f.close();
  }

  static IssuerAndSerialNumber id(X509CertificateHolder c) {
    return new IssuerAndSerialNumber(c.getIssuer(), c.getSerialNumber());
  }

  /** A work file for {@code archived}, its order signed by {@code signer} with {@code agents}' certificates. */
  static byte[] work(ArchiveFixture.Ca signer, CeremonyOrder.Kind kind, ArchiveFixture.Archived archived,
      int threshold, List<X509CertificateHolder> agents, Instant notAfter) throws Exception {
    byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(archived.record().getEncoded("DER"));
    List<IssuerAndSerialNumber> ids = new ArrayList<>();
    agents.forEach(a -> ids.add(id(a)));
    CeremonyOrder order = new CeremonyOrder(kind, 7, new byte[32], List.of(new CeremonyOrder.Archive(
        archived.record().certificate(), hash)), threshold, ids, ArchiveFixture.OAEP.algorithmIdentifier(), notAfter);
    List<X509CertificateHolder> certs = new ArrayList<>(List.of(signer.cert()));
    certs.addAll(agents);
    return new CeremonyWork(signer.sign(KeyarcCmp.CEREMONY_ORDER, order.encoded(), certs),
        List.of(new CeremonyWork.Item(archived.blob(), null, null))).encoded();
  }

  static CeremonyStep.Outcome step(CeremonyStep.Checked c, String card) throws Exception {
    Map<Integer, KeyHandle> on = RecoveryStep.agentsOn(c.blobs().get(0), f.card(card));
    return CeremonyStep.run(c, f.card(card), List.of(on));
  }

  @Test
  void aRotationsNewEnvelopesOpenWithTheNewAgentsCardDownToTheSameKey() throws Exception {
    ArchiveFixture.Archived archived = f.archive(2, "a", "b");
    byte[] w = work(f.ca, CeremonyOrder.Kind.ROTATION, archived, 1, List.of(f.agent("c").cert()),
        Instant.now().plusSeconds(3600));
    List<X509CertificateHolder> cas = List.of(f.ca.cert());
    // 2 of 2 -> 1 of 1 lowers the threshold: refused unless agreed
    RecoveryException lower = assertThrows(RecoveryException.class, () -> CeremonyStep.check(w, cas, List.of(),
        Instant.now(), false));
    assertTrue(lower.getMessage().contains("fewer agents") && lower.getMessage().contains("2 of 2 -> 1 of 1"),
        lower.getMessage());
    CeremonyStep.Checked c = CeremonyStep.check(w, cas, List.of(), Instant.now(), true);
    CeremonyStep.Outcome first = step(c, "a");
    assertEquals(1, first.stepped());
    assertEquals(0, first.finished());
    CeremonyStep.Checked c2 = CeremonyStep.check(first.work().encoded(), cas, List.of(), Instant.now(), true);
    CeremonyStep.Outcome last = step(c2, "b");
    assertEquals(1, last.finished());
    CeremonyWork.Result r = last.work().items().get(0).result();

    // the record had no verifier (made before them): the rotation brings one, and both proofs verify
    assertNull(archived.record().verifier());
    byte[] message = c.order().proofMessage(c.order().archives().get(0), CeremonyOrder.answerHash(r.envelopes(),
        r.newVerifier()));
    Signature p = Signature.getInstance("SHA256withECDSA");
    p.initVerify(new JcaPEMKeyConverter().getPublicKey(archived.cert().getSubjectPublicKeyInfo()));
    p.update(message);
    assertTrue(p.verify(r.proof()), "signed with the archived key");
    Signature v = Signature.getInstance("SHA256withECDSA");
    v.initVerify(new JcaPEMKeyConverter().getPublicKey(r.newVerifier().publicKey()));
    v.update(message);
    assertTrue(v.verify(r.verifierProof()), "signed with the new verifier");

    // the new record, as the node would store it, opens with agent c's card alone and gives the archived key
    ArchiveRecord next = new ArchiveRecord(archived.record().certificate(), archived.record().keyAlgorithm(),
        archived.record().wrapAlgorithm(), archived.record().wrappedKey(), 1, List.of(id(f.agent("c").cert())),
        r.envelopes(), r.newVerifier());
    byte[] blob = ArchiveFixture.blob(f.ca, next, archived.cert(), List.of(f.agent("c")));
    RecoveryStep.Result done = RecoveryStep.run(RecoveryBlob.verify(blob, f.ca.cert()), null, f.card("c"));
    try (RecoveredKey key = assertInstanceOf(RecoveryStep.Result.Done.class, done).key()) {
      assertTrue(ArchiveFixture.sameKey(key.plaintext(RecoveredKey.Access.PKCS12_WRITER), archived.user()
          .getPrivate()));
    }
    // and its drill is proven with the verifier (unwrapped with K by c's card)
    ArchiveFixture.Archived rotated = new ArchiveFixture.Archived(archived.user(), archived.cert(), next, blob);
    byte[] drill = work(f.ca, CeremonyOrder.Kind.DRILL, rotated, 0, List.of(), Instant.now().plusSeconds(3600));
    CeremonyWork.Result d = step(CeremonyStep.check(drill, cas, List.of(), Instant.now(), false), "c").work().items()
        .get(0).result();
    CeremonyOrder dOrder = CeremonyStep.check(drill, cas, Instant.now()).order();
    Signature dv = Signature.getInstance("SHA256withECDSA");
    dv.initVerify(new JcaPEMKeyConverter().getPublicKey(next.verifier().publicKey()));
    dv.update(dOrder.proofMessage(dOrder.archives().get(0), new byte[0]));
    assertTrue(dv.verify(d.verifierProof()));
    assertTrue(d.envelopes().isEmpty() && d.newVerifier() == null);
  }

  @Test
  void whatTheAgentsRefuseBeforeTheirCardIsOpened() throws Exception {
    ArchiveFixture.Archived archived = f.archive(1, "a");
    List<X509CertificateHolder> cas = List.of(f.ca.cert());
    Instant later = Instant.now().plusSeconds(3600);
    // an expired order
    byte[] old = work(f.ca, CeremonyOrder.Kind.DRILL, archived, 0, List.of(), Instant.now().minusSeconds(60));
    RecoveryException e1 = assertThrows(RecoveryException.class, () -> CeremonyStep.check(old, cas, Instant.now()));
    assertTrue(e1.getMessage().contains("expired"), e1.getMessage());
    // an order signed by another CA
    ArchiveFixture.Ca other = ArchiveFixture.Ca.create("Other CA");
    byte[] foreign = work(other, CeremonyOrder.Kind.DRILL, archived, 0, List.of(), later);
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, assertThrows(RecoveryException.class, () -> CeremonyStep.check(foreign,
        cas, Instant.now())).code());
    // K wrapped to a certificate of this CA that is no Key Recovery Agent's
    X509CertificateHolder plain = f.ca.issue("Not An Agent", ArchiveFixture.rsa(2048).getPublic(), null,
        KeyUsage.keyEncipherment);
    byte[] toStranger = work(f.ca, CeremonyOrder.Kind.ROTATION, archived, 1, List.of(plain), later);
    RecoveryException e3 = assertThrows(RecoveryException.class, () -> CeremonyStep.check(toStranger, cas,
        Instant.now()));
    assertTrue(e3.getMessage().contains("no Key Recovery Agent certificate"), e3.getMessage());
    // a blob the order does not name (another archive's)
    ArchiveFixture.Archived another = f.archive(1, "a");
    CeremonyWork ok = CeremonyWork.parse(work(f.ca, CeremonyOrder.Kind.DRILL, archived, 0, List.of(), later));
    byte[] swapped = new CeremonyWork(ok.order(), List.of(new CeremonyWork.Item(another.blob(), null, null)))
        .encoded();
    RecoveryException e4 = assertThrows(RecoveryException.class, () -> CeremonyStep.check(swapped, cas,
        Instant.now()));
    assertTrue(e4.getMessage().contains("not one the CA's order names"), e4.getMessage());
    assertArrayEquals(ok.order(), CeremonyWork.parse(ok.encoded()).order());
  }
}
