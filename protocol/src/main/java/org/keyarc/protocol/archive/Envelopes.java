package org.keyarc.protocol.archive;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JceAsymmetricKeyWrapper;

/**
 * The M-of-N nested envelopes of an archive key K (docs/archive-format.md), built the same way wherever K is: in the
 * CA's HSM at archival (the innermost layer made with C_WrapKey) and on the last agent's machine at an agent rotation
 * (the innermost layer made in software, K never leaving that machine). For every M-subset of the agents, in
 * lexicographic order: the innermost layer, RSA-OAEP of K to the subset's last agent, then one CMS EnvelopedData
 * layer (RSA-OAEP + AES-256-CBC) per further agent, outermost to the subset's first; the SHA-256 of what is left
 * after each agent peels goes into the envelope, so the signed record commits to every layer.
 */
public final class Envelopes {
  private Envelopes() {}

  /** The innermost layer for one agent: RSA-OAEP of K to agent {@code agentIndex}. */
  @FunctionalInterface
  public interface Innermost<E extends Exception> {
    byte[] wrapTo(int agentIndex) throws E;
  }

  /**
   * One envelope per M-subset of {@code agents}; {@code innermost} is asked once per distinct last agent.
   * {@code oaep} is the RSAES-OAEP AlgorithmIdentifier of every layer.
   */
  public static <E extends Exception> List<ArchiveRecord.Envelope> build(List<X509CertificateHolder> agents,
      int threshold, AlgorithmIdentifier oaep, Innermost<E> innermost) throws E {
    Map<Integer, byte[]> inner = new HashMap<>();
    List<ArchiveRecord.Envelope> out = new ArrayList<>();
    for (int[] subset : Subsets.of(agents.size(), threshold)) {
      int last = subset[subset.length - 1];
      byte[] layers = inner.get(last);
      if (layers == null) {
        layers = innermost.wrapTo(last);
        inner.put(last, layers);
      }
      byte[][] hashes = new byte[subset.length - 1][];
      for (int j = subset.length - 2; j >= 0; j--) {
        hashes[j] = sha256(layers); // what is left after agents 0..j peeled: the record commits to it
        layers = layer(layers, agents.get(subset[j]), oaep);
      }
      List<Integer> order = new ArrayList<>();
      for (int i : subset) {
        order.add(i);
      }
      out.add(new ArchiveRecord.Envelope(order, oaep, layers, List.of(hashes)));
    }
    return out;
  }

  /** A CMS EnvelopedData of {@code content} (ciphertext already) to {@code agent}, RSA-OAEP + AES-256-CBC. */
  public static byte[] layer(byte[] content, X509CertificateHolder agent, AlgorithmIdentifier oaep) {
    try {
      java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
          .getCertificate(agent);
      CMSEnvelopedDataGenerator g = new CMSEnvelopedDataGenerator();
      g.addRecipientInfoGenerator(new JceKeyTransRecipientInfoGenerator(cert,
          new JceAsymmetricKeyWrapper(oaep, cert.getPublicKey())));
      return g.generate(new CMSProcessableByteArray(content),
          new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_CBC).build()).getEncoded();
    } catch (CMSException | IOException | java.security.cert.CertificateException e) {
      throw new IllegalStateException("cannot build a CMS layer for agent " + agent.getSubject() + ": "
          + e.getMessage(), e);
    }
  }

  /** The agent certificate's public key. */
  public static PublicKey publicKey(X509CertificateHolder cert) {
    try {
      return new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo());
    } catch (IOException e) {
      throw new IllegalArgumentException("the public key of " + cert.getSubject() + " cannot be read", e);
    }
  }

  /** SHA-256 of the DER SEQUENCE OF Envelope: what an agent rotation's proof commits to. */
  public static byte[] hash(List<ArchiveRecord.Envelope> envelopes) {
    org.bouncycastle.asn1.ASN1EncodableVector v = new org.bouncycastle.asn1.ASN1EncodableVector();
    envelopes.forEach(e -> v.add(e.toAsn1()));
    try {
      return sha256(new org.bouncycastle.asn1.DERSequence(v).getEncoded("DER"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
