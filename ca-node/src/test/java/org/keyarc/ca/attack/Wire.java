package org.keyarc.ca.attack;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.util.Date;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.CertConfirmContent;
import org.bouncycastle.asn1.cmp.CertRepMessage;
import org.bouncycastle.asn1.cmp.CertStatus;
import org.bouncycastle.asn1.cmp.CertResponse;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.GenRepContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PBMParameter;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.CertificateList;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CertificateConfirmationContentBuilder;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.cert.crmf.PKMACBuilder;
import org.bouncycastle.cert.crmf.jcajce.JcePKMACValuesCalculator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;

/**
 * The attacker's CMP client: plain Bouncy Castle on a JDK TLS socket trusting only the CA certificate (or a
 * plain socket for a listener without TLS), speaking keyarc's binary frame as
 * docs/protocol.md specifies it (4-byte length, version 1, type 0, flags, 8-byte request id, DER). It knows
 * nothing of keyarc's client classes: it builds every message itself, protects it with PBM (owf SHA-256,
 * HMAC-SHA256, 16-byte salt, 1,000 iterations) or a signature, and reads keyarc's "[keyarc N]" error texts.
 */
final class Wire implements AutoCloseable {
  static final ASN1ObjectIdentifier KEYARC_ADMIN = new ASN1ObjectIdentifier(
      "2.25.187625993275154177187960695602318336211.1");
  static final ASN1ObjectIdentifier KEYARC_CARD_EVIDENCE = new ASN1ObjectIdentifier(
      "2.25.187625993275154177187960695602318336211.3");
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final Pattern CODE = Pattern.compile("\\[keyarc (\\d+)\\] (.*)", Pattern.DOTALL);

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final GeneralName ca;
  private long nextId = 1;

  private Wire(Socket socket, X500Name ca) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = new DataOutputStream(socket.getOutputStream());
    this.ca = new GeneralName(ca);
    socket.setSoTimeout(30_000);
  }

  /**
   * Connects to the node's binary listener over TLS (the node's default; secrets, admin answers and archival are
   * refused in clear), trusting only {@code caCert} and checking that the node's certificate names 127.0.0.1.
   */
  static Wire connect(int port, X509CertificateHolder caCert) throws Exception {
    javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) Attacker.trusting(caCert).getSocketFactory()
        .createSocket("127.0.0.1", port);
    javax.net.ssl.SSLParameters params = s.getSSLParameters();
    params.setEndpointIdentificationAlgorithm("HTTPS");
    s.setSSLParameters(params);
    s.startHandshake();
    return new Wire(s, caCert.getSubject());
  }

  /** Connects to a plain binary listener (one without TLS), in clear. */
  static Wire connectPlain(int port, X500Name ca) throws IOException {
    return new Wire(new Socket("127.0.0.1", port), ca);
  }

  /** How a message is protected: a one-time secret's MAC, or a certificate's signature. */
  interface Protection {
    PKIMessage protect(ProtectedPKIMessageBuilder b) throws Exception;

    GeneralName sender();
  }

  /** PBM with the secret of {@code reference}. */
  static Protection mac(String reference, char[] secret) {
    return new Protection() {
      @Override
      public PKIMessage protect(ProtectedPKIMessageBuilder b) throws Exception {
        b.setSenderKID(reference.getBytes(StandardCharsets.UTF_8));
        PKMACBuilder mac = new PKMACBuilder(new JcePKMACValuesCalculator().setProvider(BC)).setParameters(
            new PBMParameter(nonce(), new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), 1000,
                new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE)));
        return b.build(mac.build(secret)).toASN1Structure();
      }

      @Override
      public GeneralName sender() {
        return new GeneralName(new X500Name("CN=" + reference));
      }
    };
  }

  /** A signature with {@code key}, {@code cert} first in extraCerts. */
  static Protection signature(X509CertificateHolder cert, PrivateKey key) {
    return new Protection() {
      @Override
      public PKIMessage protect(ProtectedPKIMessageBuilder b) throws Exception {
        b.addCMPCertificate(cert);
        return b.build(signer(key)).toASN1Structure();
      }

      @Override
      public GeneralName sender() {
        return new GeneralName(cert.getSubject());
      }
    };
  }

  static ContentSigner signer(PrivateKey key) throws Exception {
    return new JcaContentSignerBuilder(key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
        .setProvider(BC).build(key);
  }

  static byte[] nonce() {
    byte[] n = new byte[16];
    RANDOM.nextBytes(n);
    return n;
  }

  /** A protected request with a fresh senderNonce and messageTime now; {@code recipNonce} may be null. */
  PKIMessage request(Protection p, byte[] transactionId, byte[] recipNonce, PKIBody body) throws Exception {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(p.sender(), ca).setTransactionID(transactionId)
        .setSenderNonce(nonce()).setMessageTime(new Date()).setBody(body);
    if (recipNonce != null) {
      b.setRecipNonce(recipNonce);
    }
    return p.protect(b);
  }

  /** Sends one message in one frame and reads the answer frame. */
  PKIMessage send(PKIMessage m) throws IOException {
    byte[] der = m.getEncoded();
    long id = nextId++;
    out.writeInt(12 + der.length);
    out.writeByte(1);
    out.writeByte(0);
    out.writeShort(0);
    out.writeLong(id);
    out.write(der);
    out.flush();
    int length = in.readInt();
    in.readInt(); // version, type, flags
    long answerId = in.readLong();
    if (answerId != id) {
      throw new IOException("answer for request " + answerId + ", expected " + id);
    }
    byte[] answer = new byte[length - 12];
    in.readFully(answer);
    return PKIMessage.getInstance(answer);
  }

  // ------------------------------------------------------------------ requests

  /** An ir (or cr) for {@code subject} and {@code key}, signature POP; {@code profile} may be null. */
  PKIMessage certRequest(Protection p, int type, byte[] tx, X500Name subject, KeyPair key, String profile,
      boolean implicitConfirm) throws Exception {
    CertReqMessages msgs = new CertReqMessages(new CertificateRequestMessageBuilder(BigInteger.ZERO)
        .setSubject(subject).setPublicKey(SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded()))
        .setProofOfPossessionSigningKeySigner(signer(key.getPrivate())).build().toASN1Structure());
    return sendCertRequest(p, type, tx, msgs, profile, implicitConfirm);
  }

  /** {@code msgs} in an ir/cr/kur with certProfile {@code profile} (null: none) and implicitConfirm if asked. */
  private PKIMessage sendCertRequest(Protection p, int type, byte[] tx, CertReqMessages msgs, String profile,
      boolean implicitConfirm) throws Exception {
    ProtectedPKIMessageBuilder b = new ProtectedPKIMessageBuilder(p.sender(), ca).setTransactionID(tx)
        .setSenderNonce(nonce()).setMessageTime(new Date()).setBody(new PKIBody(type, msgs));
    if (profile != null) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_certProfile,
          new DERSequence(new DERUTF8String(profile))));
    }
    if (implicitConfirm) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.it_implicitConfirm, DERNull.INSTANCE));
    }
    return send(p.protect(b));
  }

  /**
   * An ir or cr whose proof of possession is RFC 4210's indirect one, POPOPrivKey {@code subsequentMessage} with
   * {@code kind} (encrCert: the certificate comes back encrypted to {@code key}); {@code regInfo} may be empty.
   */
  PKIMessage indirectRequest(Protection p, int type, byte[] tx, X500Name subject, SubjectPublicKeyInfo key,
      String profile, boolean implicitConfirm, org.bouncycastle.asn1.crmf.SubsequentMessage kind,
      org.bouncycastle.asn1.crmf.AttributeTypeAndValue... regInfo) throws Exception {
    CertificateRequestMessageBuilder crmf = new CertificateRequestMessageBuilder(BigInteger.ZERO).setSubject(subject)
        .setPublicKey(key).setProofOfPossessionSubsequentMessage(kind);
    if (regInfo.length > 0) {
      crmf.setRegInfo(regInfo);
    }
    return sendCertRequest(p, type, tx, new CertReqMessages(crmf.build().toASN1Structure()), profile,
        implicitConfirm);
  }

  /** The encrypted certificate (EnvelopedData) of the first CertResponse of an ip/cp, or null when it is plain. */
  static org.bouncycastle.cms.CMSEnvelopedData encryptedCert(PKIMessage answer) throws Exception {
    CertResponse r = CertRepMessage.getInstance(answer.getBody().getContent()).getResponse()[0];
    if (r.getCertifiedKeyPair() == null || !r.getCertifiedKeyPair().getCertOrEncCert().hasEncryptedCertificate()) {
      return null;
    }
    return new org.bouncycastle.cert.crmf.CertificateResponse(r).getEncryptedCertificate();
  }

  /** True when the answer grants implicitConfirm in its generalInfo. */
  static boolean grantsImplicitConfirm(PKIMessage answer) {
    InfoTypeAndValue[] info = answer.getHeader().getGeneralInfo();
    if (info != null) {
      for (InfoTypeAndValue i : info) {
        if (i.getInfoType().equals(CMPObjectIdentifiers.it_implicitConfirm)) {
          return true;
        }
      }
    }
    return false;
  }

  /** A PKCS#10 for {@code subject} signed with {@code key}, with {@code attributes} (may be empty). */
  static PKCS10CertificationRequest csr(X500Name subject, KeyPair key, Attribute... attributes) throws Exception {
    PKCS10CertificationRequestBuilder b = new PKCS10CertificationRequestBuilder(subject,
        SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded()));
    for (Attribute a : attributes) {
      b.addAttribute(a.getAttrType(), a.getAttributeValues());
    }
    return b.build(signer(key.getPrivate()));
  }

  /** A p10cr. */
  PKIMessage p10cr(Protection p, byte[] tx, PKCS10CertificationRequest csr) throws Exception {
    return send(request(p, tx, null, new PKIBody(PKIBody.TYPE_P10_CERT_REQ, csr.toASN1Structure())));
  }

  /** A certConf that accepts ({@code accept}) or rejects {@code cert} of transaction {@code tx}. */
  PKIMessage certConf(Protection p, byte[] tx, byte[] recipNonce, X509CertificateHolder cert, boolean accept)
      throws Exception {
    CertConfirmContent content = new CertificateConfirmationContentBuilder().addAcceptedCertificate(cert,
        BigInteger.ZERO).build(new JcaDigestCalculatorProviderBuilder().setProvider(BC).build()).toASN1Structure();
    if (!accept) {
      // the same certificate hash with a rejection status (BC's builder only accepts)
      CertStatus accepted = content.toCertStatusArray()[0];
      content = CertConfirmContent.getInstance(new DERSequence(new CertStatus(accepted.getCertHash().getOctets(),
          BigInteger.ZERO, new PKIStatusInfo(PKIStatus.rejection, new PKIFreeText("rejected")))));
    }
    return send(request(p, tx, recipNonce, new PKIBody(PKIBody.TYPE_CERT_CONFIRM, content)));
  }

  /** A pollReq for certReqId 0 of transaction {@code tx}. */
  PKIMessage pollReq(Protection p, byte[] tx) throws Exception {
    return send(request(p, tx, null, new PKIBody(PKIBody.TYPE_POLL_REQ, new PollReqContent(BigInteger.ZERO))));
  }

  /** An administrative genm: keyarc's infoType with the JSON request. */
  PKIMessage admin(Protection p, String json) throws Exception {
    return send(request(p, nonce(), null, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(
        new InfoTypeAndValue(KEYARC_ADMIN, new DERUTF8String(json))))));
  }

  /** The CA's current CRL (genm currentCRL), as a relying party fetches it. */
  X509CRLHolder currentCrl(Protection p) throws Exception {
    PKIMessage a = send(request(p, nonce(), null, new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(
        new InfoTypeAndValue(CMPObjectIdentifiers.it_currentCRL)))));
    for (InfoTypeAndValue i : GenRepContent.getInstance(a.getBody().getContent()).toInfoTypeAndValueArray()) {
      if (i.getInfoType().equals(CMPObjectIdentifiers.it_currentCRL)) {
        return new X509CRLHolder(CertificateList.getInstance(i.getInfoValue()));
      }
    }
    throw new IllegalStateException("no CRL in the answer");
  }

  // ------------------------------------------------------------------ answers

  /** keyarc's error number in an answer (an error body, or the first CertResponse's rejection); 0: none. */
  static int code(PKIMessage answer) {
    Matcher m = CODE.matcher(text(answer));
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  /** The text of an answer's error or first CertResponse status. */
  static String text(PKIMessage answer) {
    PKIStatusInfo status = null;
    PKIBody body = answer.getBody();
    if (body.getType() == PKIBody.TYPE_ERROR) {
      status = ErrorMsgContent.getInstance(body.getContent()).getPKIStatusInfo();
    } else if (body.getType() == PKIBody.TYPE_INIT_REP || body.getType() == PKIBody.TYPE_CERT_REP) {
      status = CertRepMessage.getInstance(body.getContent()).getResponse()[0].getStatus();
    }
    if (status == null || status.getStatusString() == null) {
      return "";
    }
    PKIFreeText t = status.getStatusString();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < t.size(); i++) {
      b.append(t.getStringAtUTF8(i).getString());
    }
    return b.toString();
  }

  /** The message without its "[keyarc N] " prefix. */
  static String message(PKIMessage answer) {
    Matcher m = CODE.matcher(text(answer));
    return m.find() ? m.group(2) : text(answer);
  }

  /** The certificate granted in the clear in an ip/cp, or null. */
  static X509CertificateHolder granted(PKIMessage answer) {
    int type = answer.getBody().getType();
    if (type != PKIBody.TYPE_INIT_REP && type != PKIBody.TYPE_CERT_REP) {
      return null;
    }
    CertResponse r = CertRepMessage.getInstance(answer.getBody().getContent()).getResponse()[0];
    if (r.getCertifiedKeyPair() == null || r.getCertifiedKeyPair().getCertOrEncCert().hasEncryptedCertificate()) {
      return null; // none, or only encrypted (encryptedCert)
    }
    return new X509CertificateHolder(r.getCertifiedKeyPair().getCertOrEncCert().getCertificate().getX509v3PKCert());
  }

  /** The status number of the first CertResponse (0 granted, 3 waiting...), or -1. */
  static int status(PKIMessage answer) {
    int type = answer.getBody().getType();
    if (type != PKIBody.TYPE_INIT_REP && type != PKIBody.TYPE_CERT_REP) {
      return -1;
    }
    return CertRepMessage.getInstance(answer.getBody().getContent()).getResponse()[0].getStatus().getStatus()
        .intValue();
  }

  /** The JSON answer of an administrative genm, or null when the answer is an error. */
  static String adminAnswer(PKIMessage answer) {
    if (answer.getBody().getType() != PKIBody.TYPE_GEN_REP) {
      return null;
    }
    for (InfoTypeAndValue i : GenRepContent.getInstance(answer.getBody().getContent()).toInfoTypeAndValueArray()) {
      if (i.getInfoType().equals(KEYARC_ADMIN)) {
        return DERUTF8String.getInstance(i.getInfoValue()).getString();
      }
    }
    return null;
  }

  /** The answer's senderNonce (the next request's recipNonce). */
  static byte[] senderNonce(PKIMessage answer) {
    return answer.getHeader().getSenderNonce().getOctets();
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
