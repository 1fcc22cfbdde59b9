package org.keyarc.ca.attack;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.time.Duration;
import java.util.Date;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIHeaderBuilder;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.crmf.EncryptedValue;
import org.bouncycastle.asn1.crmf.PKIArchiveOptions;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAESOAEPparams;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.cert.crmf.PKIArchiveControl;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.GenericKey;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * The attacker's side, written with plain Bouncy Castle and the JDK, knowing nothing of keyarc's client classes,
 * so a test built on it fails if an attack works. Two styles:
 * <ul>
 *   <li>an instance talks to the node's binary transport on a real loopback socket (docs/protocol.md: 4-byte
 *       length, version 1, type 0, flags, 8-byte request id, DER), over TLS trusting the CA certificate when the
 *       listener speaks TLS, else in clear; it builds CRMF and PKCS#10 requests and protects them with a one-time
 *       secret (PBM: OWF SHA-256, HMAC-SHA256, 16-byte salt, 1,000 iterations) or a certificate's key;</li>
 *   <li>the static helpers build raw CMP messages (headers, forged MACs) and send raw bytes: HTTP(S) with
 *       {@code java.net.http}, or one binary frame over a plain or TLS socket, and read the answers' bytes.</li>
 * </ul>
 */
final class Attacker {
  static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private static final Pattern KEYARC_CODE = Pattern.compile("\\[keyarc (\\d+)\\]");

  private final String host;
  private final int port;
  private final X500Name ca;
  /** Null when the listener speaks plain TCP. */
  private final javax.net.ssl.SSLSocketFactory tls;

  Attacker(String host, int port, X509CertificateHolder caCert) throws Exception {
    this.host = host;
    this.port = port;
    this.ca = caCert.getSubject();
    this.tls = tlsIfSpoken(host, port, caCert);
  }

  /** A JDK TLS client context whose only trust anchor is {@code caCert}. */
  static SSLContext trusting(X509CertificateHolder caCert) throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
        .getCertificate(caCert));
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), RANDOM);
    return ctx;
  }

  /** A TLS client trusting {@code caCert} if the listener completes a TLS handshake, else null (plain TCP). */
  private static javax.net.ssl.SSLSocketFactory tlsIfSpoken(String host, int port, X509CertificateHolder caCert)
      throws Exception {
    SSLContext ctx = trusting(caCert);
    try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(host, port)) {
      s.setSoTimeout(5_000);
      s.startHandshake();
      return ctx.getSocketFactory();
    } catch (IOException e) {
      return null; // a plain listener reads the ClientHello as a frame and closes
    }
  }

  /** What the attacker sees in an answer: the PKIStatus, the failInfo bits, the text, and a certificate if any. */
  record Answer(int status, int failInfo, String text, X509CertificateHolder cert, int bodyType) {
    boolean granted() {
      return cert != null && status <= 1;
    }

    /** The keyarc code in "[keyarc N] ...", or -1. */
    int code() {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[keyarc (\\d+)\\]").matcher(text);
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    @Override
    public String toString() {
      return "Answer[status=" + status + ", failInfo=0x" + Integer.toHexString(failInfo) + ", " + text + "]";
    }
  }

  // ------------------------------------------------------------------ requests

  /** One CertReqMsg: subject, key, POP signed with the key, the given extensions and archive options. */
  static CertReqMessages crmf(KeyPair kp, X500Name subject, Extensions ext, EncryptedKey archive) throws Exception {
    CertificateRequestMessageBuilder b = new CertificateRequestMessageBuilder(BigInteger.ZERO)
        .setPublicKey(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(signer(kp.getPrivate()));
    if (subject != null) {
      b.setSubject(subject);
    }
    if (ext != null) {
      for (ASN1ObjectIdentifier oid : ext.getExtensionOIDs()) {
        b.addExtension(oid, ext.getExtension(oid).isCritical(), ext.getExtension(oid).getParsedValue());
      }
    }
    if (archive != null) {
      b.addControl(new PKIArchiveControl(new PKIArchiveOptions(archive)));
    }
    return new CertReqMessages(b.build().toASN1Structure());
  }

  static ContentSigner signer(PrivateKey key) throws Exception {
    return new JcaContentSignerBuilder(key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
        .setProvider(BC).build(key);
  }

  static PKIBody ir(CertReqMessages m) {
    return new PKIBody(PKIBody.TYPE_INIT_REQ, m);
  }

  static PKIBody cr(CertReqMessages m) {
    return new PKIBody(PKIBody.TYPE_CERT_REQ, m);
  }

  static PKIBody kur(CertReqMessages m) {
    return new PKIBody(PKIBody.TYPE_KEY_UPDATE_REQ, m);
  }

  static PKIBody p10cr(PKCS10CertificationRequest csr) {
    return new PKIBody(PKIBody.TYPE_P10_CERT_REQ, csr.toASN1Structure());
  }

  /**
   * The private key, encrypted as CRMF EncryptedValue to the exchange certificate: a fresh AES-256 key wraps
   * the PKCS#8 (RFC 5649), RSA-OAEP (SHA-1, what SoftHSM2 unwraps) encrypts that key.
   */
  static EncryptedKey encryptedKey(byte[] pkcs8, X509CertificateHolder exchange) throws Exception {
    byte[] aes = new byte[32];
    RANDOM.nextBytes(aes);
    RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
    kwp.init(true, new KeyParameter(aes));
    byte[] wrapped = kwp.wrap(pkcs8, 0, pkcs8.length);
    Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
    oaep.init(Cipher.ENCRYPT_MODE, new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
        exchange).getPublicKey(), new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1,
        PSource.PSpecified.DEFAULT));
    byte[] encAes = oaep.doFinal(aes);
    return new EncryptedKey(new EncryptedValue(null, new AlgorithmIdentifier(NISTObjectIdentifiers.id_aes256_wrap_pad),
        new DERBitString(encAes), new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP, new RSAESOAEPparams()),
        null, new DERBitString(wrapped)));
  }

  // ------------------------------------------------------------------ protection

  /** {@code body} MAC-protected with the one-time secret of {@code reference}; {@code profile} may be null. */
  PKIMessage withSecret(PKIBody body, String reference, char[] secret, String profile, boolean implicitConfirm)
      throws Exception {
    ProtectedPKIMessageBuilder b = header(new GeneralName(new X500Name("CN=attacker")), profile, implicitConfirm)
        .setSenderKID(reference.getBytes(StandardCharsets.UTF_8)).setBody(body);
    PKMACBuilder mac = new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(
        new org.bouncycastle.asn1.cmp.PBMParameter(random(16), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256),
            1_000, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE)));
    return b.build(mac.build(secret)).toASN1Structure();
  }

  /** {@code body} signed with {@code key}, its certificate first in extraCerts; {@code profile} may be null. */
  PKIMessage signedBy(PKIBody body, X509CertificateHolder cert, PrivateKey key, String profile,
      boolean implicitConfirm) throws Exception {
    return header(new GeneralName(cert.getSubject()), profile, implicitConfirm).addCMPCertificate(cert).setBody(body)
        .build(signer(key)).toASN1Structure();
  }

  private ProtectedPKIMessageBuilder header(GeneralName sender, String profile, boolean implicitConfirm) {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(sender, new GeneralName(ca))
        .setTransactionID(random(16)).setSenderNonce(random(16)).setMessageTime(new Date());
    if (profile != null) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_certProfile,
          new DERSequence(new DERUTF8String(profile))));
    }
    if (implicitConfirm) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.it_implicitConfirm, DERNull.INSTANCE));
    }
    return b;
  }

  /** An unprotected genm asking for the CA's current exchange (protocol encryption) certificate. */
  X509CertificateHolder exchangeCertificate() throws Exception {
    PKIHeader h = new PKIHeaderBuilder(PKIHeader.CMP_2000, new GeneralName(new X500Name("CN=attacker")),
        new GeneralName(ca)).setTransactionID(random(16)).setSenderNonce(random(16))
        .setMessageTime(new org.bouncycastle.asn1.ASN1GeneralizedTime(new Date())).build();
    PKIMessage genm = new PKIMessage(h, new PKIBody(PKIBody.TYPE_GEN_MSG,
        new GenMsgContent(new InfoTypeAndValue(CMPObjectIdentifiers.it_caProtEncCert))));
    PKIMessage rep = send(genm);
    if (rep.getBody().getType() != PKIBody.TYPE_GEN_REP) {
      throw new IllegalStateException("no genp: " + answer(rep));
    }
    for (InfoTypeAndValue i : GenRepContent.getInstance(rep.getBody().getContent()).toInfoTypeAndValueArray()) {
      if (i.getInfoType().equals(CMPObjectIdentifiers.it_caProtEncCert)) {
        return new X509CertificateHolder(CMPCertificate.getInstance(i.getInfoValue()).getX509v3PKCert());
      }
    }
    throw new IllegalStateException("the genp has no exchange certificate");
  }

  // ------------------------------------------------------------------ wire

  /** Sends {@code msg} and returns what came back, read as the attacker would. */
  Answer request(PKIMessage msg) throws Exception {
    return answer(send(msg));
  }

  /** One frame out, one frame back, on a fresh loopback connection. */
  PKIMessage send(PKIMessage msg) throws IOException {
    byte[] der = msg.getEncoded("DER");
    try (Socket s = tls == null ? new Socket(host, port) : tls.createSocket(host, port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      ByteBuffer frame = ByteBuffer.allocate(16 + der.length);
      frame.putInt(12 + der.length).put((byte) 1).put((byte) 0).putShort((short) 0).putLong(7).put(der);
      out.write(frame.array());
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int length = in.readInt();
      byte[] rest = new byte[length];
      in.readFully(rest);
      return PKIMessage.getInstance(java.util.Arrays.copyOfRange(rest, 12, rest.length));
    }
  }

  static Answer answer(PKIMessage rep) throws IOException {
    PKIBody body = rep.getBody();
    switch (body.getType()) {
      case PKIBody.TYPE_ERROR: {
        PKIStatusInfo si = ErrorMsgContent.getInstance(body.getContent()).getPKIStatusInfo();
        return new Answer(si.getStatus().intValue(), failInfo(si), text(si), null, body.getType());
      }
      case PKIBody.TYPE_INIT_REP:
      case PKIBody.TYPE_CERT_REP:
      case PKIBody.TYPE_KEY_UPDATE_REP: {
        CertResponse r = CertRepMessage.getInstance(body.getContent()).getResponse()[0];
        PKIStatusInfo si = r.getStatus();
        X509CertificateHolder cert = null;
        if (r.getCertifiedKeyPair() != null) {
          cert = new X509CertificateHolder(r.getCertifiedKeyPair().getCertOrEncCert().getCertificate()
              .getX509v3PKCert());
        }
        return new Answer(si.getStatus().intValue(), failInfo(si), text(si), cert, body.getType());
      }
      default:
        return new Answer(-1, 0, "unexpected body " + body.getType(), null, body.getType());
    }
  }

  private static int failInfo(PKIStatusInfo si) {
    return si.getFailInfo() == null ? 0 : si.getFailInfo().intValue();
  }

  private static String text(PKIStatusInfo si) {
    if (si.getStatusString() == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < si.getStatusString().size(); i++) {
      b.append(si.getStatusString().getStringAtUTF8(i).getString());
    }
    return b.toString();
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** An extension value, for building requests. */
  static ASN1Encodable utf8(String s) {
    return new DERUTF8String(s);
  }

  // ------------------------------------------------------------------ raw messages (static)

  /** POSTs {@code der} as application/pkixcmp and returns the answer; within {@code timeout} or fails. */
  static PKIMessage post(String url, byte[] der, Duration timeout) throws Exception {
    return post(HTTP, url, der, timeout);
  }

  /**
   * POSTs {@code der} over HTTPS to {@code url}, trusting only {@code caCert} (and checking the host), and returns
   * the answer.
   */
  static PKIMessage post(String url, byte[] der, X509CertificateHolder caCert) throws Exception {
    HttpClient https = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).sslContext(trusting(caCert))
        .build();
    return post(https, url, der, Duration.ofSeconds(30));
  }

  private static PKIMessage post(HttpClient client, String url, byte[] der, Duration timeout) throws Exception {
    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
        .header("Content-Type", "application/pkixcmp").POST(HttpRequest.BodyPublishers.ofByteArray(der)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + r.statusCode());
    }
    return PKIMessage.getInstance(r.body());
  }

  /** {@link #post(String, byte[], Duration)} with 30 s. */
  static PKIMessage post(String url, byte[] der) throws Exception {
    return post(url, der, Duration.ofSeconds(30));
  }

  /**
   * Sends {@code der} in one binary frame (length, version 1, flags, request id) on a plain TCP connection (a
   * listener with {@code binary.tls} off) and reads the answer frame.
   */
  static PKIMessage frame(int port, byte[] der) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return frame(s, der);
    }
  }

  /** {@link #frame(int, byte[])} over TLS (the binary listener's default), trusting only {@code caCert}. */
  static PKIMessage frame(int port, byte[] der, X509CertificateHolder caCert) throws Exception {
    try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) trusting(caCert).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      javax.net.ssl.SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      return frame(s, der);
    }
  }

  private static PKIMessage frame(Socket s, byte[] der) throws Exception {
    s.setSoTimeout(30_000);
    DataOutputStream out = new DataOutputStream(s.getOutputStream());
    out.writeInt(12 + der.length);
    out.writeByte(1);
    out.writeByte(0);
    out.writeShort(0);
    out.writeLong(7);
    out.write(der);
    out.flush();
    DataInputStream in = new DataInputStream(s.getInputStream());
    int length = in.readInt();
    in.readInt();
    in.readLong();
    byte[] answer = new byte[length - 12];
    in.readFully(answer);
    return PKIMessage.getInstance(answer);
  }

  /** A request header: fresh transactionID and senderNonce, messageTime now. */
  static ProtectedPKIMessageBuilder header(X500Name sender, X500Name recipient) {
    return header(sender, recipient, random(16), new Date());
  }

  /** A request header with the given transactionID and messageTime (null: none), a fresh senderNonce. */
  static ProtectedPKIMessageBuilder header(X500Name sender, X500Name recipient, byte[] transactionId,
      Date messageTime) {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(new GeneralName(sender), new GeneralName(recipient))
        .setTransactionID(transactionId).setSenderNonce(random(16));
    if (messageTime != null) {
      b.setMessageTime(messageTime);
    }
    return b;
  }

  static KeyPair ecKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  /** An ir body for a fresh P-256 key with a signature proof of possession. */
  static PKIBody ir(String subject) throws Exception {
    KeyPair kp = ecKey();
    var req = new CertificateRequestMessageBuilder(BigInteger.ZERO).setSubject(new X500Name(subject))
        .setPublicKey(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .build();
    return new PKIBody(PKIBody.TYPE_INIT_REQ, new CertReqMessages(req.toASN1Structure()));
  }

  /**
   * A MAC calculator that names {@code claimed} as its parameters and computes {@code mac} (a real calculator,
   * made with whatever key the attacker guessed) over the message: the forger's tool.
   */
  static MacCalculator claiming(AlgorithmIdentifier claimed, MacCalculator mac) {
    return new MacCalculator() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return claimed;
      }

      @Override
      public OutputStream getOutputStream() {
        return mac.getOutputStream();
      }

      @Override
      public byte[] getMac() {
        return mac.getMac();
      }

      @Override
      public GenericKey getKey() {
        return mac.getKey();
      }
    };
  }

  /** HMAC-SHA256 with {@code key}: what a forger computes with a key it guessed. */
  static MacCalculator hmacSha256(byte[] key) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    AlgorithmIdentifier id = new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE);
    return new MacCalculator() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return id;
      }

      @Override
      public OutputStream getOutputStream() {
        return new OutputStream() {
          @Override
          public void write(int b) {
            mac.update((byte) b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            mac.update(b, off, len);
          }
        };
      }

      @Override
      public byte[] getMac() {
        return mac.doFinal();
      }

      @Override
      public GenericKey getKey() {
        return new GenericKey(id, key);
      }
    };
  }

  /** The status text of an error answer (every freeText string, joined); empty for another body. */
  static String errorText(PKIMessage answer) {
    if (answer.getBody().getType() != PKIBody.TYPE_ERROR) {
      return "";
    }
    PKIStatusInfo status = ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo();
    StringBuilder out = new StringBuilder();
    PKIFreeText text = status.getStatusString();
    for (int i = 0; text != null && i < text.size(); i++) {
      out.append(text.getStringAtUTF8(i).getString());
    }
    return out.toString();
  }

  /** The keyarc error number in an error answer's text ("[keyarc 35] ..."), or -1. */
  static int keyarcCode(PKIMessage answer) {
    Matcher m = KEYARC_CODE.matcher(errorText(answer));
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The PKIFailureInfo bits of an error answer, or 0. */
  static int failInfo(PKIMessage answer) {
    if (answer.getBody().getType() != PKIBody.TYPE_ERROR) {
      return 0;
    }
    PKIStatusInfo status = ErrorMsgContent.getInstance(answer.getBody().getContent()).getPKIStatusInfo();
    return status.getFailInfo() == null ? 0 : status.getFailInfo().intValue();
  }

  /** True when the answer carries no protection at all. */
  static boolean unprotected(PKIMessage answer) {
    return answer.getHeader().getProtectionAlg() == null && answer.getProtection() == null;
  }
}
