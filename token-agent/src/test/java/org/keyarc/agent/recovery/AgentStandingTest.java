package org.keyarc.agent.recovery;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CRLs an agent brings to an offline step ({@code recoverkey --crl}): one not signed by a pinned CA
 * certificate, or out of date, is refused, since either would hide a revocation; a current one of the CA is taken.
 */
class AgentStandingTest {
  private static final X500Name CA = new X500Name("CN=Standing CA");

  @Test
  void aCrlOfAnotherKeyOrOutOfDateIsRefusedAndACurrentOneTaken() throws Exception {
    KeyPair ca = key();
    KeyPair other = key();
    X509CertificateHolder caCert = root(ca);
    Instant now = Instant.now();
    RecoveryException forged = assertThrows(RecoveryException.class, () -> AgentStanding.check(null, List.of(),
        List.of(caCert), List.of(crl(other, now.plusSeconds(3600))), now));
    assertEquals(ErrorCode.BAD_INPUT, forged.code());
    assertTrue(forged.getMessage().contains("not signed by a pinned CA certificate"), forged.getMessage());
    RecoveryException stale = assertThrows(RecoveryException.class, () -> AgentStanding.check(null, List.of(),
        List.of(caCert), List.of(crl(ca, now.minusSeconds(1))), now));
    assertTrue(stale.getMessage().contains("out of date"), stale.getMessage());
    AgentStanding.Report ok = AgentStanding.check(null, List.of(), List.of(caCert),
        List.of(crl(ca, now.plusSeconds(3600))), now);
    assertEquals(List.of(), ok.problems());
    assertTrue(ok.revocationChecked());
    RecoveryException future = assertThrows(RecoveryException.class, () -> AgentStanding.check(null, List.of(),
        List.of(caCert), List.of(crl(ca, now.plusSeconds(7200), now.plusSeconds(3600))), now));
    assertTrue(future.getMessage().contains("dated in the future"), future.getMessage());
    RecoveryException deltaOnly = assertThrows(RecoveryException.class, () -> AgentStanding.check(null, List.of(),
        List.of(caCert), List.of(delta(ca, now.plusSeconds(3600))), now));
    assertTrue(deltaOnly.getMessage().contains("only delta CRLs"), deltaOnly.getMessage());
    assertTrue(AgentStanding.check(null, List.of(), List.of(caCert), List.of(), now).revocationChecked() == false);
  }

  private static X509CRLHolder delta(KeyPair signer, Instant nextUpdate) throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(CA, new Date(System.currentTimeMillis() - 120_000));
    b.setNextUpdate(Date.from(nextUpdate));
    b.addExtension(org.bouncycastle.asn1.x509.Extension.deltaCRLIndicator, true,
        new org.bouncycastle.asn1.x509.CRLNumber(BigInteger.ONE));
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
  }

  private static X509CRLHolder crl(KeyPair signer, Instant nextUpdate, Instant thisUpdate) throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(CA, Date.from(thisUpdate));
    b.setNextUpdate(Date.from(nextUpdate));
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
  }

  private static KeyPair key() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  private static X509CertificateHolder root(KeyPair kp) throws Exception {
    return new X509v3CertificateBuilder(CA, BigInteger.ONE, new Date(System.currentTimeMillis() - 60_000),
        new Date(System.currentTimeMillis() + 86_400_000L), CA,
        SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
  }

  private static X509CRLHolder crl(KeyPair signer, Instant nextUpdate) throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(CA, new Date(System.currentTimeMillis() - 120_000));
    b.setNextUpdate(Date.from(nextUpdate));
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
  }
}
