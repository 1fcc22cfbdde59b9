package org.keyarc.ca.attack;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Date;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.crmf.CertReqMessages;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.cmp.ProtectedPKIMessageBuilder;
import org.bouncycastle.cert.crmf.CertificateRequestMessageBuilder;
import org.bouncycastle.operator.GenericKey;
import org.bouncycastle.operator.MacCalculator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The attacker's side, written with plain Bouncy Castle and the JDK: it builds CMP messages itself, sends raw
 * bytes (HTTP with {@code java.net.http}, or the binary frame over a socket) and reads the answers' bytes. It
 * knows nothing of keyarc's client classes, so a test built on it fails if an attack works.
 */
final class Attacker {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private static final Pattern KEYARC_CODE = Pattern.compile("\\[keyarc (\\d+)\\]");

  private Attacker() {}

  /** POSTs {@code der} as application/pkixcmp and returns the answer; within {@code timeout} or fails. */
  static PKIMessage post(String url, byte[] der, Duration timeout) throws Exception {
    HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
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

  /** Sends {@code der} in one binary frame (length, version 1, flags, request id) and reads the answer frame. */
  static PKIMessage frame(int port, byte[] der) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
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
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
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
