package org.keyarc.ca.cmp;


import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertConfirmContent;
import org.bouncycastle.asn1.cmp.CertStatus;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.protocol.cmp.CmpHeaders;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.MacKind;
import org.keyarc.ca.node.CaServices;

/**
 * The CMP fuzzers' seeds and mutations, shared by the in-memory fuzzer ({@link CmpFuzzTest}) and the one over
 * real sockets ({@code e2e.SocketFuzzE2eTest}): seeds of every request kind keyarc answers (a genm; an ir,
 * certConf and pollReq MAC-protected with a fresh one-time secret for "CN=Fuzz Seed"), mutated by bit flips, byte
 * changes, length-byte tweaks, truncation, insertions, deletions, splices and deep nesting.
 */
public final class CmpMutations {
  private CmpMutations() {}

  /** The seeds, index 1 being the enrollment (ir). */
  public static List<byte[]> seeds(CaServices services) throws Exception {
    List<byte[]> seeds = new ArrayList<>();
    GeneralName caName = new GeneralName(services.keys().caName());
    seeds.add(new PKIMessage(CmpHeaders.unprotectedRequest(CmpHeaders.noName(), caName, null, null, null).build(),
        new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(new InfoTypeAndValue[] {
            new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts),
            new InfoTypeAndValue(CMPObjectIdentifiers.it_caProtEncCert)}))).getEncoded());
    SecretService.NewSecret s = services.secrets().create(Identity.localOperator(), "User",
        X500Subject.parse("CN=Fuzz Seed"));
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    var req = new CertificateRequestMessageBuilder(BigInteger.ZERO).setSubject(new X500Name("CN=Fuzz Seed"))
        .setPublicKey(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .build();
    for (PKIBody body : new PKIBody[] {new PKIBody(PKIBody.TYPE_INIT_REQ, new CertReqMessages(req.toASN1Structure())),
        new PKIBody(PKIBody.TYPE_CERT_CONFIRM, CertConfirmContent.getInstance(new org.bouncycastle.asn1.DERSequence(
            new CertStatus(new byte[32], BigInteger.ZERO)))),
        new PKIBody(PKIBody.TYPE_POLL_REQ, new PollReqContent(new ASN1Integer(0)))}) {
      seeds.add(new ProtectedPKIMessageBuilder(CmpHeaders.noName(), caName).setTransactionID(CmpHeaders.nonce())
          .setSenderNonce(CmpHeaders.nonce()).setMessageTime(new Date())
          .setSenderKID(s.reference().getBytes(StandardCharsets.UTF_8)).setBody(body)
          .build(CmpMac.calculator(MacKind.PBM, s.secret())).toASN1Structure().getEncoded());
    }
    return seeds;
  }

  public static byte[] mutate(byte[] in, Random r, List<byte[]> seeds) {
    byte[] b = in.length < 2 ? new byte[] {0x30, 0x00} : in.clone();
    switch (r.nextInt(8)) {
      case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
      case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      case 2 -> { // a length byte near a tag: lengths are where parsers break
        int i = r.nextInt(b.length - 1);
        b[i + 1] = (byte) new int[] {0x00, 0x7f, 0x80, 0x81, 0x84, 0xff}[r.nextInt(6)];
      }
      case 3 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length)); // truncation
      case 4 -> { // insert random bytes
        int i = r.nextInt(b.length);
        byte[] ins = new byte[1 + r.nextInt(8)];
        r.nextBytes(ins);
        byte[] o = new byte[b.length + ins.length];
        System.arraycopy(b, 0, o, 0, i);
        System.arraycopy(ins, 0, o, i, ins.length);
        System.arraycopy(b, i, o, i + ins.length, b.length - i);
        b = o;
      }
      case 5 -> { // delete a run
        int i = r.nextInt(b.length);
        int n = Math.min(b.length - i, 1 + r.nextInt(16));
        byte[] o = new byte[b.length - n];
        System.arraycopy(b, 0, o, 0, i);
        System.arraycopy(b, i + n, o, i, b.length - i - n);
        b = o;
      }
      case 6 -> { // splice with another seed
        byte[] other = seeds.get(r.nextInt(seeds.size()));
        int i = r.nextInt(b.length);
        int j = r.nextInt(other.length);
        byte[] o = new byte[i + other.length - j];
        System.arraycopy(b, 0, o, 0, i);
        System.arraycopy(other, j, o, i, other.length - j);
        b = o;
      }
      default -> { // wrap in SEQUENCEs: deep nesting
        int depth = 1 + r.nextInt(64);
        for (int k = 0; k < depth && b.length < 60_000; k++) {
          byte[] len = b.length < 0x80 ? new byte[] {(byte) b.length}
              : new byte[] {(byte) 0x82, (byte) (b.length >> 8), (byte) b.length};
          byte[] o = new byte[1 + len.length + b.length];
          o[0] = 0x30;
          System.arraycopy(len, 0, o, 1, len.length);
          System.arraycopy(b, 0, o, 1 + len.length, b.length);
          b = o;
        }
      }
    }
    return b.length == 0 ? new byte[] {0} : b;
  }

  /** The DER of what {@code in} decodes to, or an empty array when it does not decode. */
  public static byte[] der(byte[] in) {
    try {
      return PKIMessage.getInstance(in).getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
    } catch (Exception | StackOverflowError e) {
      return new byte[0];
    }
  }
}
