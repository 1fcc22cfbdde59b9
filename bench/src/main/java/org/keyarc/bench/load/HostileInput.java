package org.keyarc.bench.load;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIHeaderBuilder;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.crmf.CertReqMsg;
import org.bouncycastle.asn1.crmf.CertTemplateBuilder;
import org.bouncycastle.asn1.crmf.POPOSigningKey;
import org.bouncycastle.asn1.crmf.ProofOfPossession;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PBMAC1Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.operator.ContentSigner;

/**
 * The fuzz campaign's hostile message classes (issue 14), built from outside the node with Bouncy Castle's ASN.1
 * classes only, for {@code keyarc bench hostile}: each should cost the node about as little CPU as a genm for the
 * CA certificates (the baseline). The first ones need no credentials; the key-policy ones are signed by the
 * caller's certificate, so that they reach the template's key rules, which must refuse them before any proof of
 * possession is checked.
 */
final class HostileInput {
  private static final SecureRandom RANDOM = new SecureRandom();

  private HostileInput() {}

  /**
   * One class: its name, and how to build a message of it; {@code fresh}: each send needs a message of its own
   * (a protected one, which the node would otherwise refuse as a replay).
   */
  record Kind(String name, boolean fresh, java.util.concurrent.Callable<byte[]> build) {}

  /** The classes, the baseline first. {@code signer} and {@code me} may be null: the signed classes are left out. */
  static List<Kind> kinds(X509CertificateHolder ca, X509CertificateHolder me, ContentSigner signer) {
    GeneralName caName = new GeneralName(ca.getSubject());
    List<Kind> k = new java.util.ArrayList<>(List.of(
        new Kind("baseline: genm caCerts", false, () -> genm(caName, 1, 16)),
        new Kind("genm asking 83,333 times for caCerts (1 MB)", false, () -> genm(caName, 83_333, 16)),
        new Kind("10,000 nested indefinite-length SEQUENCEs (40 KB)", false, () -> nested(10_000)),
        new Kind("PBMAC1 with PBKDF2 keyLength 2^20", false, () -> pbmac1(caName, 1 << 20)),
        new Kind("pvno 2^80", false, () -> withPvno(genm(caName, 1, 16), BigInteger.TWO.pow(80))),
        new Kind("transactionID of 33 bytes", false, () -> genm(caName, 1, 33))));
    if (signer != null && me != null) {
      k.add(new Kind("cr, RSA-16384 key, signed by --cert", true, () -> cr(caName, me, signer,
          rsa(16_384, BigInteger.valueOf(65537)))));
      k.add(new Kind("cr, RSA-2048 key, 4,000,000-bit exponent, signed by --cert", true, () -> cr(caName, me, signer,
          rsa(2048, new BigInteger(4_000_000, RANDOM).setBit(0).setBit(3_999_999)))));
    }
    return k;
  }

  private static PKIHeaderBuilder header(GeneralName caName, int transactionIdBytes) {
    return new PKIHeaderBuilder(PKIHeader.CMP_2000, new GeneralName(new X500Name("")), caName)
        .setTransactionID(bytes(transactionIdBytes)).setSenderNonce(bytes(16))
        .setMessageTime(new org.bouncycastle.asn1.ASN1GeneralizedTime(new Date()));
  }

  private static byte[] genm(GeneralName caName, int items, int transactionIdBytes) throws Exception {
    InfoTypeAndValue[] asks = new InfoTypeAndValue[items];
    for (int i = 0; i < items; i++) {
      asks[i] = new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts);
    }
    return new PKIMessage(header(caName, transactionIdBytes).build(), new PKIBody(PKIBody.TYPE_GEN_MSG,
        new GenMsgContent(asks))).getEncoded();
  }

  private static byte[] nested(int depth) {
    byte[] b = new byte[depth * 4];
    for (int i = 0; i < depth; i++) {
      b[2 * i] = 0x30;
      b[2 * i + 1] = (byte) 0x80; // indefinite length; the end-of-contents octets (00 00) follow
    }
    return b;
  }

  private static byte[] pbmac1(GeneralName caName, int keyLengthBytes) throws Exception {
    AlgorithmIdentifier hmac = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256);
    AlgorithmIdentifier kdf = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBKDF2, new PBKDF2Params(bytes(16),
        10_000, keyLengthBytes, hmac));
    AlgorithmIdentifier alg = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBMAC1, new PBMAC1Params(kdf, hmac));
    PKIHeader h = header(caName, 16).setProtectionAlg(alg).setSenderKID(("bench-" + RANDOM.nextInt())
        .getBytes(StandardCharsets.UTF_8)).build();
    return new PKIMessage(h, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue(
        CMPObjectIdentifiers.id_it_caCerts))), new DERBitString(bytes(32))).getEncoded();
  }

  /** {@code der} with its header's pvno replaced by {@code pvno} (out of any int's range). */
  private static byte[] withPvno(byte[] der, BigInteger pvno) throws Exception {
    ASN1Sequence msg = ASN1Sequence.getInstance(der);
    ASN1Sequence h = ASN1Sequence.getInstance(msg.getObjectAt(0));
    ASN1EncodableVector hv = new ASN1EncodableVector();
    hv.add(new ASN1Integer(pvno));
    for (int i = 1; i < h.size(); i++) {
      hv.add(h.getObjectAt(i));
    }
    ASN1EncodableVector mv = new ASN1EncodableVector();
    mv.add(new DERSequence(hv));
    for (int i = 1; i < msg.size(); i++) {
      mv.add(msg.getObjectAt(i));
    }
    return new DERSequence(mv).getEncoded();
  }

  /** An RSA public key of {@code bits} with exponent {@code e}; no private key exists (none is needed). */
  private static SubjectPublicKeyInfo rsa(int bits, BigInteger e) throws Exception {
    BigInteger n = new BigInteger(bits, RANDOM).setBit(bits - 1).setBit(0);
    return new SubjectPublicKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption,
        org.bouncycastle.asn1.DERNull.INSTANCE), new org.bouncycastle.asn1.pkcs.RSAPublicKey(n, e));
  }

  /** A cr for {@code key} with a proof of possession that does not verify, signature-protected by {@code me}. */
  private static byte[] cr(GeneralName caName, X509CertificateHolder me, ContentSigner signer,
      SubjectPublicKeyInfo key) throws Exception {
    CertReqMsg req = new CertReqMsg(new org.bouncycastle.asn1.crmf.CertRequest(0, new CertTemplateBuilder()
        .setSubject(me.getSubject()).setPublicKey(key).build(), null), new ProofOfPossession(new POPOSigningKey(null,
        new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption), new DERBitString(bytes(256)))),
        null);
    return new ProtectedPKIMessageBuilder(new GeneralName(me.getSubject()), caName).setTransactionID(bytes(16))
        .setSenderNonce(bytes(16)).setMessageTime(new Date()).addCMPCertificate(me)
        .setBody(new PKIBody(PKIBody.TYPE_CERT_REQ, new CertReqMessages(req))).build(signer).toASN1Structure()
        .getEncoded();
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** The node's CPU time so far, in nanoseconds, from /proc/PID/stat (utime + stime), or -1. */
  static long cpuNanos(long pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
      return ticks * 1_000_000_000L / 100; // USER_HZ is 100 on Linux
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

}
