package org.keyarc.protocol.cmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.iana.IANAObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.operator.GenericKey;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.pkcs.jcajce.JcePBMac1CalculatorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;

class CmpMacTest {
  private static final char[] SECRET = "one-time secret 0123456789abcdef".toCharArray();
  private static final AlgorithmIdentifier SHA1 = new AlgorithmIdentifier(OIWObjectIdentifiers.idSHA1);
  private static final AlgorithmIdentifier HMAC_SHA1 = new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1,
      DERNull.INSTANCE);

  /** A genm protected with {@code mac}, as the receiver reads it off the wire. */
  private static ProtectedPKIMessage protectedWith(MacCalculator mac) throws Exception {
    PKIMessage built = CmpHeaders.request(new GeneralName(new X500Name("CN=client")),
            new GeneralName(new X500Name("CN=ca")), null, null, null)
        .setSenderKID("ref-1".getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .setBody(new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(
            new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts))))
        .build(mac).toASN1Structure();
    return new ProtectedPKIMessage(new GeneralPKIMessage(PKIMessage.getInstance(built.getEncoded())));
  }

  /** A real MAC calculator that names other parameters than its own (for values BC's builders refuse). */
  private static MacCalculator claiming(MacCalculator real, AlgorithmIdentifier claimed) {
    return new MacCalculator() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return claimed;
      }

      @Override
      public OutputStream getOutputStream() {
        return real.getOutputStream();
      }

      @Override
      public byte[] getMac() {
        return real.getMac();
      }

      @Override
      public GenericKey getKey() {
        return real.getKey();
      }
    };
  }

  private static CmpProtectionException refused(MacCalculator mac) throws Exception {
    ProtectedPKIMessage p = protectedWith(mac);
    return assertThrows(CmpProtectionException.class, () -> CmpMac.checkParameters(p.toASN1Structure()));
  }

  @Test
  void todaysValuesStay() {
    assertEquals(1_000, CmpMac.MAC_ITERATIONS);
    assertEquals(100_000, CmpMac.MAX_ITERATIONS);
    assertEquals(8, CmpMac.MIN_SALT);
    assertEquals(16, CmpMac.SALT_LENGTH);
  }

  @ParameterizedTest
  @EnumSource(MacKind.class)
  void aMacVerifiesWithTheSecretAndNotWithAnother(MacKind kind) throws Exception {
    ProtectedPKIMessage p = protectedWith(CmpMac.calculator(kind, SECRET));
    assertEquals(kind.algorithm(), p.getProtectionAlgorithm().getAlgorithm());
    assertEquals(kind, CmpMac.checkParameters(p.toASN1Structure()));
    assertTrue(p.verify(CmpMac.verifier(kind), SECRET));
    assertFalse(p.verify(CmpMac.verifier(kind), "another secret".toCharArray()));
  }

  @Test
  void pbmIsWhatBothSidesSentBefore() throws Exception {
    PBMParameter pbm = PBMParameter.getInstance(CmpMac.calculator(MacKind.PBM, SECRET).getAlgorithmIdentifier()
        .getParameters());
    assertEquals(16, pbm.getSalt().getOctets().length);
    assertEquals(1_000, pbm.getIterationCount().intValueExact());
    assertEquals(SHA1, pbm.getOwf());
    assertEquals(HMAC_SHA1, pbm.getMac());
  }

  @Test
  void pbmac1IsWhatBothSidesSentBefore() throws Exception {
    PBMAC1Params pb = PBMAC1Params.getInstance(CmpMac.calculator(MacKind.PBMAC1, SECRET).getAlgorithmIdentifier()
        .getParameters());
    // Bouncy Castle up to 1.82 labelled the key derivation id-PBES2; since the upgrade (1.87) it is id-PBKDF2, as
    // RFC 8018 A.2 and RFC 9481 ask. checkParameters reads the PBKDF2 parameters under either label, so clients
    // built on an older Bouncy Castle still enroll
    assertEquals(PKCSObjectIdentifiers.id_PBKDF2, pb.getKeyDerivationFunc().getAlgorithm());
    PBKDF2Params kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
    assertEquals(16, kdf.getSalt().length);
    assertEquals(1_000, kdf.getIterationCount().intValueExact());
    assertEquals(32, kdf.getKeyLength().intValueExact());
    assertEquals(PKCSObjectIdentifiers.id_hmacWithSHA256, kdf.getPrf().getAlgorithm());
    assertEquals(PKCSObjectIdentifiers.id_hmacWithSHA256, pb.getMessageAuthScheme().getAlgorithm());
  }

  @ParameterizedTest
  @EnumSource(MacKind.class)
  void theBoundsThemselvesAreAccepted(MacKind kind) throws Exception {
    MacCalculator min;
    MacCalculator max;
    if (kind == MacKind.PBM) {
      min = new PKMACBuilder(new JcePKMACValuesCalculator()).setParameters(new PBMParameter(new byte[8], SHA1, 1,
          HMAC_SHA1)).build(SECRET);
      max = new PKMACBuilder(new JcePKMACValuesCalculator()).setSaltLength(8).setIterationCount(100_000)
          .build(SECRET);
    } else {
      min = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER).setSalt(new byte[8])
          .setIterationCount(1).build(SECRET);
      max = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER).setSaltLength(8)
          .setIterationCount(100_000).build(SECRET);
    }
    assertEquals(kind, CmpMac.checkParameters(protectedWith(min).toASN1Structure()));
    assertEquals(kind, CmpMac.checkParameters(protectedWith(max).toASN1Structure()));
  }

  @Test
  void pbmWithASevenByteSaltIsRefused() throws Exception {
    CmpProtectionException e = refused(new PKMACBuilder(new JcePKMACValuesCalculator())
        .setParameters(new PBMParameter(new byte[7], SHA1, 1_000, HMAC_SHA1)).build(SECRET));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC salt is 7 bytes; at least 8 are required", e.getMessage());
  }

  @Test
  void pbmWithIterationCountZeroIsRefused() throws Exception {
    // PKMACBuilder.setIterationCount refuses below 100; explicit parameters are not bounded below
    CmpProtectionException e = refused(new PKMACBuilder(new JcePKMACValuesCalculator())
        .setParameters(new PBMParameter(new byte[16], SHA1, 0, HMAC_SHA1)).build(SECRET));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 0 is outside 1..100000", e.getMessage());
  }

  @Test
  void pbmWithTooManyIterationsIsRefused() throws Exception {
    CmpProtectionException e = refused(new PKMACBuilder(new JcePKMACValuesCalculator()).setSaltLength(16)
        .setIterationCount(100_001).build(SECRET));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 100001 is outside 1..100000", e.getMessage());
  }

  @Test
  void pbmac1WithASevenByteSaltIsRefused() throws Exception {
    CmpProtectionException e = refused(new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setSalt(new byte[7]).setIterationCount(1_000).build(SECRET));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC salt is 7 bytes; at least 8 are required", e.getMessage());
  }

  @Test
  void pbmac1WithIterationCountZeroIsRefused() throws Exception {
    // the JCE's PBKDF2 refuses to derive with 0 iterations: a real PBMAC1 calculator claims count 0
    MacCalculator real = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setSaltLength(16).setIterationCount(1_000).build(SECRET);
    PBMAC1Params pb = PBMAC1Params.getInstance(real.getAlgorithmIdentifier().getParameters());
    PBKDF2Params kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
    PBMAC1Params zero = new PBMAC1Params(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2,
        new PBKDF2Params(kdf.getSalt(), 0, kdf.getKeyLength().intValueExact(), kdf.getPrf())),
        pb.getMessageAuthScheme());
    CmpProtectionException e = refused(claiming(real, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1,
        zero)));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 0 is outside 1..100000", e.getMessage());
  }

  @Test
  void pbmac1WithTooManyIterationsIsRefused() throws Exception {
    CmpProtectionException e = refused(new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setSaltLength(16).setIterationCount(100_001).build(SECRET));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 100001 is outside 1..100000", e.getMessage());
  }

  @Test
  void anUnknownMacAlgorithmIsRefused() throws Exception {
    MacCalculator real = CmpMac.calculator(MacKind.PBM, SECRET);
    CmpProtectionException e = refused(claiming(real, new AlgorithmIdentifier(
        PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE)));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("MAC algorithm 1.2.840.113549.2.9 is not supported (PBM or PBMAC1)", e.getMessage());
    assertTrue(MacKind.of(PKCSObjectIdentifiers.id_hmacWithSHA256).isEmpty());
  }

  @Test
  void unreadableParametersAreABadMessage() throws Exception {
    MacCalculator real = CmpMac.calculator(MacKind.PBM, SECRET);
    for (AlgorithmIdentifier claimed : new AlgorithmIdentifier[] {
        new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac),
        new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac, DERNull.INSTANCE),
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, DERNull.INSTANCE)}) {
      CmpProtectionException e = refused(claiming(real, claimed));
      assertEquals(ErrorCode.BAD_MESSAGE, e.code());
      assertEquals("the MAC parameters cannot be read", e.getMessage());
    }
  }

  @Test
  void kindsByAlgorithm() {
    assertEquals(MacKind.PBM, MacKind.of(CMPObjectIdentifiers.passwordBasedMac).orElseThrow());
    assertEquals(MacKind.PBMAC1, MacKind.of(PKCSObjectIdentifiers.id_PBMAC1).orElseThrow());
    assertNotNull(CmpMac.verifier(MacKind.PBM));
    assertTrue(MacKind.of(PKCSObjectIdentifiers.id_PBMAC1).isPresent());
    assertFalse(MacKind.of(PKCSObjectIdentifiers.id_hmacWithSHA256).isPresent());
  }
}
