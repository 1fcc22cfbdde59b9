package org.keyarc.agent.recovery;

import java.io.IOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.List;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS12PfxPdu;
import org.bouncycastle.pkcs.PKCS12PfxPduBuilder;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.PKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcePKCS12MacCalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEOutputEncryptorBuilder;
import org.keyarc.protocol.ErrorCode;

/**
 * Writes the recovered key and its certificate chain as a password-protected PKCS#12 (PFX) that
 * {@code openssl pkcs12} and Windows import: by default ({@link Compat#MODERN}) PBES2 with AES-256-CBC and
 * PBKDF2-HMAC-SHA-256 for the key and the certificates, an HMAC-SHA-256 integrity MAC; with {@link Compat#LEGACY}
 * what Windows before 10 1709 / Server 2019 opens (it reports the modern form as a wrong password):
 * pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA-1 MAC, weaker. Both with a friendly name and a local key id.
 */
public final class Pkcs12Writer {
  static final int ITERATIONS = 100_000;
  /** The iteration count of the legacy form, as Windows' own exports use. */
  static final int LEGACY_ITERATIONS = 2048;

  /** The encryption and MAC of the file. */
  public enum Compat {
    /** AES-256-CBC with PBKDF2-HMAC-SHA-256, HMAC-SHA-256 MAC: Windows 10 1709, Server 2019, OpenSSL 1.1+. */
    MODERN,
    /** TripleDES with SHA-1 and an HMAC-SHA-1 MAC: every Windows; weaker, for old systems only. */
    LEGACY
  }

  private Pkcs12Writer() {}

  /** One key in a PKCS#12: the key, its certificate, the CA certificates above it, and its friendly name. */
  public record Entry(RecoveredKey key, X509CertificateHolder cert, List<X509CertificateHolder> chain,
      String friendlyName) {}

  /** {@link #build(RecoveredKey, X509CertificateHolder, List, String, char[], Compat)} in the modern form. */
  public static byte[] build(RecoveredKey key, X509CertificateHolder cert, List<X509CertificateHolder> chain,
      String friendlyName, char[] password) throws RecoveryException {
    return build(key, cert, chain, friendlyName, password, Compat.MODERN);
  }

  private static OutputEncryptor encryptor(Compat compat, char[] password)
      throws org.bouncycastle.operator.OperatorCreationException {
    if (compat == Compat.LEGACY) {
      return new JcePKCSPBEOutputEncryptorBuilder(PKCSObjectIdentifiers.pbeWithSHAAnd3_KeyTripleDES_CBC)
          .setProvider(org.keyarc.protocol.Bc.PROVIDER).setIterationCount(LEGACY_ITERATIONS).build(password);
    }
    return new JcePKCSPBEOutputEncryptorBuilder(NISTObjectIdentifiers.id_aes256_CBC)
        .setProvider(org.keyarc.protocol.Bc.PROVIDER)
        .setPRF(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))
        .setIterationCount(ITERATIONS).build(password);
  }

  /**
   * Checks that {@code key} belongs to {@code cert} (a signature made with it verifies with the
   * certificate's public key), then builds the PFX.
   */
  public static byte[] build(RecoveredKey key, X509CertificateHolder cert, List<X509CertificateHolder> chain,
      String friendlyName, char[] password, Compat compat) throws RecoveryException {
    return build(List.of(new Entry(key, cert, chain, friendlyName)), password, compat);
  }

  /**
   * Several keys in one PKCS#12 (a user's recovered keys, {@code keyarc pfx merge}): each key checked against its
   * certificate first, each with its own friendly name and local key id; every CA certificate once.
   */
  public static byte[] build(List<Entry> entries, char[] password, Compat compat) throws RecoveryException {
    if (entries.isEmpty()) {
      throw new IllegalArgumentException("no key to write");
    }
    try {
      OutputEncryptor enc = encryptor(compat, password);
      List<PKCS12SafeBag> certBags = new java.util.ArrayList<>();
      List<PKCS12SafeBag> keyBags = new java.util.ArrayList<>();
      java.util.Set<X509CertificateHolder> cas = new java.util.LinkedHashSet<>();
      for (Entry e : entries) {
        X509CertificateHolder cert = e.cert();
        PrivateKey priv = new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(e.key().plaintext(
            RecoveredKey.Access.PKCS12_WRITER)));
        PublicKey pub = new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo());
        if (!matches(priv, pub)) {
          throw new RecoveryException(ErrorCode.BAD_POP, "the recovered key does not belong to certificate "
              + cert.getSerialNumber().toString(16) + "; nothing was written");
        }
        byte[] localKeyId = java.security.MessageDigest.getInstance("SHA-1").digest(
            cert.getSubjectPublicKeyInfo().getPublicKeyData().getBytes());
        // the JDK's encoding of the key: complete (CRT values included) whatever the token's PKCS#8 held
        PKCS12SafeBagBuilder keyBag = new PKCS12SafeBagBuilder(PrivateKeyInfo.getInstance(priv.getEncoded()), enc);
        keyBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_friendlyName, new DERBMPString(e.friendlyName()));
        keyBag.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_localKeyId,
            new org.bouncycastle.asn1.DEROctetString(localKeyId));
        keyBags.add(keyBag.build());
        PKCS12SafeBagBuilder own = new PKCS12SafeBagBuilder(cert);
        own.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_friendlyName, new DERBMPString(e.friendlyName()));
        own.addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_localKeyId,
            new org.bouncycastle.asn1.DEROctetString(localKeyId));
        certBags.add(own.build());
        cas.addAll(e.chain());
      }
      for (X509CertificateHolder ca : cas) {
        certBags.add(new PKCS12SafeBagBuilder(ca).build());
      }
      PKCS12PfxPduBuilder pfx = new PKCS12PfxPduBuilder();
      pfx.addEncryptedData(encryptor(compat, password), certBags.toArray(new PKCS12SafeBag[0]));
      for (PKCS12SafeBag k : keyBags) {
        pfx.addData(k);
      }
      PKCS12PfxPdu pdu = pfx.build(compat == Compat.LEGACY
          ? new JcePKCS12MacCalculatorBuilder(org.bouncycastle.asn1.oiw.OIWObjectIdentifiers.idSHA1)
              .setProvider(org.keyarc.protocol.Bc.PROVIDER).setIterationCount(LEGACY_ITERATIONS)
          : new JcePKCS12MacCalculatorBuilder(NISTObjectIdentifiers.id_sha256)
              .setProvider(org.keyarc.protocol.Bc.PROVIDER).setIterationCount(ITERATIONS), password);
      return pdu.getEncoded("DER");
    } catch (RecoveryException e) {
      throw e;
    } catch (IOException | PKCSException | org.bouncycastle.operator.OperatorCreationException
        | java.security.GeneralSecurityException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "cannot build the PKCS#12: " + e.getMessage()
          + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
    }
  }

  private static boolean matches(PrivateKey priv, PublicKey pub) throws java.security.GeneralSecurityException {
    return org.keyarc.protocol.client.KeyMatch.matches(priv, pub);
  }

}
