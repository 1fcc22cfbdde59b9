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
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
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

  private static final AlgorithmIdentifier SHA256 = new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256);
  private static final AlgorithmIdentifier HMAC_SHA256 = new AlgorithmIdentifier(
      PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE);

  private static MacCalculator pbm(int salt, AlgorithmIdentifier owf, int count, AlgorithmIdentifier mac)
      throws Exception {
    return new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(Bc.PROVIDER)).setParameters(
        new PBMParameter(new byte[salt], owf, count, mac)).build(SECRET);
  }

  /** A real PBMAC1 calculator (HMAC-SHA256, 32-byte key) that claims other PBKDF2 parameters. */
  private static MacCalculator pbmac1Claiming(byte[] salt, int count, Integer keyLength, AlgorithmIdentifier prf,
      AlgorithmIdentifier mac) throws Exception {
    MacCalculator real = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setSaltLength(16).setIterationCount(1_000).build(SECRET);
    PBKDF2Params kdf = keyLength == null
        ? (prf == null ? new PBKDF2Params(salt, count) : new PBKDF2Params(salt, count, prf))
        : (prf == null ? new PBKDF2Params(salt, count, keyLength) : new PBKDF2Params(salt, count, keyLength, prf));
    return claiming(real, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, new PBMAC1Params(
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2, kdf), mac)));
  }

  @Test
  void theBounds() {
    assertEquals(1_000, CmpMac.MAC_ITERATIONS);
    assertEquals(500, CmpMac.MIN_ITERATIONS);
    assertEquals(100_000, CmpMac.MAX_ITERATIONS);
    assertEquals(16, CmpMac.MIN_SALT);
    assertEquals(64, CmpMac.MAX_SALT);
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
  void pbmIsSha256AndHmacSha256() throws Exception {
    PBMParameter pbm = PBMParameter.getInstance(CmpMac.calculator(MacKind.PBM, SECRET).getAlgorithmIdentifier()
        .getParameters());
    assertEquals(16, pbm.getSalt().getOctets().length);
    assertEquals(1_000, pbm.getIterationCount().intValueExact());
    assertEquals(SHA256, pbm.getOwf());
    assertEquals(HMAC_SHA256, pbm.getMac());
  }

  @Test
  void pbmac1IsPbkdf2WithHmacSha256() throws Exception {
    PBMAC1Params pb = PBMAC1Params.getInstance(CmpMac.calculator(MacKind.PBMAC1, SECRET).getAlgorithmIdentifier()
        .getParameters());
    // RFC 8018 A.2 and RFC 9481: id-PBKDF2. Bouncy Castle up to 1.82 labelled the key derivation id-PBES2 (CmpMac
    // relabels what its builder writes); since the upgrade (1.87) it is id-PBKDF2 anyway. checkParameters reads the
    // PBKDF2 parameters under either label, so clients built on an older Bouncy Castle still enroll
    assertEquals(PKCSObjectIdentifiers.id_PBKDF2, pb.getKeyDerivationFunc().getAlgorithm());
    PBKDF2Params kdf = PBKDF2Params.getInstance(pb.getKeyDerivationFunc().getParameters());
    assertEquals(16, kdf.getSalt().length);
    assertEquals(1_000, kdf.getIterationCount().intValueExact());
    assertEquals(32, kdf.getKeyLength().intValueExact());
    assertEquals(PKCSObjectIdentifiers.id_hmacWithSHA256, kdf.getPrf().getAlgorithm());
    assertEquals(PKCSObjectIdentifiers.id_hmacWithSHA256, pb.getMessageAuthScheme().getAlgorithm());
  }

  @Test
  void opensslCmpDefaultsAreAccepted() throws Exception {
    // what OpenSSL 3.0's "openssl cmp -ref R -secret pass:S" sends (captured with -reqout): salt 16, OWF
    // SHA-256 without parameters, 500 iterations, HMAC-SHA1 under its IANA OID 1.3.6.1.5.5.8.1.2
    ProtectedPKIMessage p = protectedWith(pbm(16, SHA256, 500, new AlgorithmIdentifier(IANAObjectIdentifiers.hmacSHA1)));
    assertEquals(MacKind.PBM, CmpMac.checkParameters(p.toASN1Structure()));
    assertTrue(p.verify(CmpMac.verifier(MacKind.PBM), SECRET));
  }

  @Test
  void bouncyCastlesOwnPbmac1LabelIsAccepted() throws Exception {
    // Bouncy Castle 1.87 (the version here) labels the key derivation id-PBKDF2
    MacCalculator bc = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setPrf(JcePBMac1CalculatorBuilder.PRF_SHA256).setSaltLength(16).setIterationCount(1_000).build(SECRET);
    ProtectedPKIMessage p = protectedWith(bc);
    PBMAC1Params params = PBMAC1Params.getInstance(p.getProtectionAlgorithm().getParameters());
    assertEquals(PKCSObjectIdentifiers.id_PBKDF2, params.getKeyDerivationFunc().getAlgorithm());
    assertEquals(MacKind.PBMAC1, CmpMac.checkParameters(p.toASN1Structure()));
    assertTrue(p.verify(CmpMac.verifier(MacKind.PBMAC1), SECRET));
    // Bouncy Castle up to 1.82 wrote id-PBES2 there: clients built on it still enroll
    MacCalculator old = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER)
        .setPrf(JcePBMac1CalculatorBuilder.PRF_SHA256).setSaltLength(16).setIterationCount(1_000).build(SECRET);
    PBMAC1Params real = PBMAC1Params.getInstance(old.getAlgorithmIdentifier().getParameters());
    ProtectedPKIMessage pbes2 = protectedWith(claiming(old, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1,
        new PBMAC1Params(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBES2,
            real.getKeyDerivationFunc().getParameters()), real.getMessageAuthScheme()))));
    assertEquals(MacKind.PBMAC1, CmpMac.checkParameters(pbes2.toASN1Structure()));
    assertTrue(pbes2.verify(CmpMac.verifier(MacKind.PBMAC1), SECRET));
  }

  @ParameterizedTest
  @EnumSource(MacKind.class)
  void theBoundsThemselvesAreAccepted(MacKind kind) throws Exception {
    MacCalculator min;
    MacCalculator max;
    if (kind == MacKind.PBM) {
      min = pbm(16, SHA256, 500, HMAC_SHA1);
      max = pbm(64, new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha512), 100_000,
          new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA512, DERNull.INSTANCE));
    } else {
      min = new JcePBMac1CalculatorBuilder("HmacSHA256", 256).setProvider(Bc.PROVIDER).setSalt(new byte[16])
          .setIterationCount(500).build(SECRET);
      max = new JcePBMac1CalculatorBuilder("HmacSHA512", 512).setProvider(Bc.PROVIDER).setSaltLength(64)
          .setPrf(JcePBMac1CalculatorBuilder.PRF_SHA512).setIterationCount(100_000).build(SECRET);
    }
    assertEquals(kind, CmpMac.checkParameters(protectedWith(min).toASN1Structure()));
    ProtectedPKIMessage p = protectedWith(max);
    assertEquals(kind, CmpMac.checkParameters(p.toASN1Structure()));
    assertTrue(p.verify(CmpMac.verifier(kind), SECRET), "the largest parameters verify too");
  }

  @Test
  void pbmWithAFifteenByteSaltIsRefused() throws Exception {
    CmpProtectionException e = refused(pbm(15, SHA256, 1_000, HMAC_SHA1));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC salt is 15 bytes; 16..64 are required", e.getMessage());
    assertEquals("the MAC salt is 65 bytes; 16..64 are required", refused(pbm(65, SHA256, 1_000, HMAC_SHA1))
        .getMessage());
  }

  @Test
  void pbmWithTooFewIterationsIsRefused() throws Exception {
    // PKMACBuilder.setIterationCount refuses below 100; explicit parameters are not bounded below
    CmpProtectionException e = refused(pbm(16, SHA256, 499, HMAC_SHA1));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 499 is outside 500..100000", e.getMessage());
    assertEquals("the MAC iteration count 0 is outside 500..100000", refused(pbm(16, SHA256, 0, HMAC_SHA1))
        .getMessage());
  }

  @Test
  void pbmWithTooManyIterationsIsRefused() throws Exception {
    MacCalculator real = CmpMac.calculator(MacKind.PBM, SECRET);
    CmpProtectionException e = refused(claiming(real, new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac,
        new PBMParameter(new byte[16], SHA256, Integer.MAX_VALUE, HMAC_SHA1))));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("the MAC iteration count 2147483647 is outside 500..100000", e.getMessage());
  }

  @Test
  void pbmWithSha1AsOneWayFunctionIsRefused() throws Exception {
    // Bouncy Castle's PKMACBuilder default, which keyarc itself sent before
    CmpProtectionException e = refused(pbm(16, SHA1, 1_000, HMAC_SHA1));
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("PBM's one-way function 1.3.14.3.2.26 (SHA-1) is not allowed; use SHA-256, SHA-384 or SHA-512",
        e.getMessage());
  }

  @Test
  void pbmWithAnUnlistedMacIsRefused() throws Exception {
    MacCalculator real = CmpMac.calculator(MacKind.PBM, SECRET);
    CmpProtectionException e = refused(claiming(real, new AlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMac,
        new PBMParameter(new byte[16], SHA256, 1_000, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA224,
            DERNull.INSTANCE)))));
    assertTrue(e.getMessage().startsWith("PBM's MAC 1.2.840.113549.2.8 (HMAC-SHA224) is not allowed"),
        e.getMessage());
  }

  @Test
  void pbmac1WithAOneByteKeyIsRefusedBeforeAnyDerivation() throws Exception {
    // the forgery: BC derives a key of the length the sender names, so keyLength 1 makes 1 MAC in 256 verify
    MacCalculator forged = pbmac1Claiming(new byte[16], 1_000, 1, JcePBMac1CalculatorBuilder.PRF_SHA256,
        HMAC_SHA256);
    CmpProtectionException e = refused(forged);
    assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
    assertEquals("PBKDF2's keyLength 1 bytes is wrong; it must be 32 bytes, the output length of "
        + "1.2.840.113549.2.9 (HMAC-SHA256)", e.getMessage());
    // and the verifier itself refuses before it derives: no key of one byte is ever made
    ProtectedPKIMessage p = protectedWith(forged);
    Exception thrown = assertThrows(Exception.class, () -> p.verify(CmpMac.verifier(MacKind.PBMAC1), SECRET));
    assertTrue(String.valueOf(thrown.getMessage()).contains("keyLength"), thrown.toString());
  }

  @Test
  void pbmac1KeyLengthMustBeNamedAndMatchTheMac() throws Exception {
    assertTrue(refused(pbmac1Claiming(new byte[16], 1_000, null, JcePBMac1CalculatorBuilder.PRF_SHA256, HMAC_SHA256))
        .getMessage().startsWith("PBKDF2's keyLength is missing"));
    assertTrue(refused(pbmac1Claiming(new byte[16], 1_000, 64, JcePBMac1CalculatorBuilder.PRF_SHA512, HMAC_SHA256))
        .getMessage().startsWith("PBKDF2's keyLength 64 bytes is wrong; it must be 32"));
  }

  @Test
  void pbmac1PrfMustBeNamedAndSha2() throws Exception {
    assertEquals("PBKDF2's PRF 1.2.840.113549.2.7 (HMAC-SHA1), the default when none is named, is not allowed; "
        + "use HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512", refused(pbmac1Claiming(new byte[16], 1_000, 32, null,
        HMAC_SHA256)).getMessage());
    assertTrue(refused(pbmac1Claiming(new byte[16], 1_000, 32, new AlgorithmIdentifier(
        PKCSObjectIdentifiers.id_hmacWithSHA1, DERNull.INSTANCE), HMAC_SHA256)).getMessage()
        .startsWith("PBKDF2's PRF 1.2.840.113549.2.7 (HMAC-SHA1)"));
    assertTrue(refused(pbmac1Claiming(new byte[16], 1_000, 28, new AlgorithmIdentifier(
        PKCSObjectIdentifiers.id_hmacWithSHA224, DERNull.INSTANCE), HMAC_SHA256)).getMessage()
        .startsWith("PBKDF2's PRF 1.2.840.113549.2.8 (HMAC-SHA224) is not allowed"));
  }

  @Test
  void pbmac1MacMustBeHmacSha2() throws Exception {
    assertTrue(refused(pbmac1Claiming(new byte[16], 1_000, 20, JcePBMac1CalculatorBuilder.PRF_SHA256,
        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA1, DERNull.INSTANCE))).getMessage()
        .startsWith("PBMAC1's MAC 1.2.840.113549.2.7 (HMAC-SHA1) is not allowed"));
  }

  @Test
  void pbmac1WithAShortSaltOrAHugeCountIsRefused() throws Exception {
    assertEquals("the MAC salt is 7 bytes; 16..64 are required", refused(pbmac1Claiming(new byte[7], 1_000, 32,
        JcePBMac1CalculatorBuilder.PRF_SHA256, HMAC_SHA256)).getMessage());
    assertEquals("the MAC iteration count 2000000000 is outside 500..100000", refused(pbmac1Claiming(new byte[16],
        2_000_000_000, 32, JcePBMac1CalculatorBuilder.PRF_SHA256, HMAC_SHA256)).getMessage());
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
