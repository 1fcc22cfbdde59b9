package org.keyarc.bench;

import java.io.OutputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CertOrEncCert;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.CertifiedKeyPair;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessage;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.keyarc.ca.keys.CertFactory;
import org.keyarc.ca.template.Templates;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.Protection;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The node's per-request software work around the HSM, one piece per benchmark, on a cr as the load
 * generator sends it (P-256 enrollee key, signature-protected, implicitConfirm):
 * <ul>
 *   <li>{@link #decodeRequest}: the DER into Bouncy Castle's CMP and CRMF objects, as the node reads it;</li>
 *   <li>{@link #verifyProtection}: the request's signature, with the signer's verifier cached as the node
 *       caches it per certificate;</li>
 *   <li>{@link #verifyPop}: the proof of possession, with the enrollee's key new to the verifier each time
 *       (as every enrollee's is);</li>
 *   <li>{@link #buildCertificate}: {@link CertFactory#issued} under the User template;</li>
 *   <li>{@link #encodeResponse}: the ip/cp, protected and DER-encoded.</li>
 * </ul>
 * Where the node signs in the HSM, these use a signer that returns a fixed signature after taking the bytes, so
 * that only the software work is measured ({@link SigningBenchmark} measures the signatures). No token needed:
 * {@code java -jar bench/target/benchmarks.jar CmpBenchmark -t 2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CmpBenchmark {
  private byte[] request;
  private X509CertificateHolder ca;
  private X509CertificateHolder client;
  private ContentVerifierProvider clientVerifier;
  private X509CertificateHolder issued;
  private SubjectPublicKeyInfo enrolleeKey;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    KeyPair caKeys = p256();
    ca = new JcaX509v3CertificateBuilder(new X500Name("CN=bench CA"), BigInteger.ONE, new Date(),
        Date.from(Instant.now().plusSeconds(86_400 * 365)), new X500Name("CN=bench CA"), caKeys.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(Bc.PROVIDER).build(caKeys.getPrivate()));
    KeyPair clientKeys = p256();
    client = CertFactory.issued(ca, Templates.of(java.util.List.of()).find(Templates.USER).orElseThrow(),
        new X500Name("CN=bench client"), SubjectPublicKeyInfo.getInstance(clientKeys.getPublic().getEncoded()), null,
        BigInteger.TWO, Instant.now(), CertFactory.Links.NONE, new JcaContentSignerBuilder("SHA256withECDSA")
            .setProvider(Bc.PROVIDER).build(caKeys.getPrivate()));
    clientVerifier = new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER)
        .build(client.getSubjectPublicKeyInfo());
    KeyPair enrollee = p256();
    enrolleeKey = SubjectPublicKeyInfo.getInstance(enrollee.getPublic().getEncoded());
    CmpClient cmp = new CmpClient(null, new Protection.Signature(client, clientKeys.getPrivate(), Bc.PROVIDER), ca);
    request = cmp.prepareCertRequest(PKIBody.TYPE_CERT_REQ, client.getSubject(), enrolleeKey,
        new JcaContentSignerBuilder("SHA256withECDSA").setProvider(Bc.PROVIDER).build(enrollee.getPrivate()), "User");
    issued = buildCertificate();
  }

  private static KeyPair p256() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", Bc.PROVIDER);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  @Benchmark
  public CertificateRequestMessage decodeRequest() {
    PKIMessage msg = PKIMessage.getInstance(request);
    CertReqMessages reqs = CertReqMessages.getInstance(msg.getBody().getContent());
    CertificateRequestMessage req = new CertificateRequestMessage(reqs.toCertReqMsgArray()[0]);
    req.getCertTemplate().getPublicKey();
    req.getCertTemplate().getSubject();
    return req;
  }

  @Benchmark
  public boolean verifyProtection() throws Exception {
    return new ProtectedPKIMessage(new GeneralPKIMessage(PKIMessage.getInstance(request))).verify(clientVerifier);
  }

  @Benchmark
  public boolean verifyPop() throws Exception {
    CertificateRequestMessage req = decodeRequest();
    return req.isValidSigningKeyPOP(new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER)
        .build(req.getCertTemplate().getPublicKey()));
  }

  @Benchmark
  public X509CertificateHolder buildCertificate() throws Exception {
    return CertFactory.issued(ca, Templates.of(java.util.List.of()).find(Templates.USER).orElseThrow(),
        new X500Name("CN=bench enrollee"), enrolleeKey, null, BigInteger.valueOf(System.nanoTime()), Instant.now(),
        new CertFactory.Links("http://ca.example/crl", "http://ca.example/ocsp", "http://ca.example/ca.crt"),
        new FixedSigner()); // with the CDP and AIA every certificate carries by default
  }

  @Benchmark
  public byte[] encodeResponse() throws Exception {
    CertResponse resp = new CertResponse(new ASN1Integer(0), new PKIStatusInfo(PKIStatus.granted),
        new CertifiedKeyPair(new CertOrEncCert(new CMPCertificate(issued.toASN1Structure()))), null);
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(new GeneralName(ca.getSubject()),
        new GeneralName(client.getSubject()))
        .setTransactionID(new byte[16]).setSenderNonce(new byte[16]).setRecipNonce(new byte[16])
        .setMessageTime(new Date())
        .setBody(new PKIBody(PKIBody.TYPE_CERT_REP, new CertRepMessage(null, new CertResponse[] {resp})));
    b.addCMPCertificate(ca);
    return b.build(new FixedSigner()).toASN1Structure().getEncoded();
  }

  /** Takes the bytes to be signed and returns a fixed ECDSA-sized signature: the HSM's part is measured elsewhere. */
  static final class FixedSigner implements ContentSigner {
    private static final byte[] SIGNATURE = new byte[72];
    private final OutputStream sink = OutputStream.nullOutputStream();

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
      return new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
    }

    @Override
    public OutputStream getOutputStream() {
      return sink;
    }

    @Override
    public byte[] getSignature() {
      return SIGNATURE.clone();
    }
  }
}
