package org.keyarc.agent.recovery;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.pkcs.PKCS12PfxPdu;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.PKCS12SafeBagFactory;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.jcajce.JcePKCS12MacCalculatorBuilderProvider;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEInputDecryptorProviderBuilder;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.keyarc.protocol.ErrorCode;

/**
 * Reads the keys of recovered PKCS#12 files for {@code keyarc pfx merge} (ADCS's {@code certutil -mergepfx}): the
 * file's MAC is checked with the password first, then each shrouded key is matched to its certificate by local key
 * id. The keys become {@link RecoveredKey}s, the one type that holds plaintext keys, written out again only by
 * {@link Pkcs12Writer}. Certificates without a key are taken as the CA certificates above them.
 */
public final class Pkcs12Reader {
  private Pkcs12Reader() {}

  /** The keys of {@code pfx}, each with its certificate, the file's other certificates and its friendly name. */
  public static List<Pkcs12Writer.Entry> read(byte[] pfx, char[] password) throws RecoveryException {
    try {
      PKCS12PfxPdu pdu = new PKCS12PfxPdu(pfx);
      if (!pdu.hasMac() || !pdu.isMacValid(new JcePKCS12MacCalculatorBuilderProvider()
          .setProvider(org.keyarc.protocol.Bc.PROVIDER), password)) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the password does not open the file (or it has no MAC)");
      }
      InputDecryptorProvider dec = new JcePKCSPBEInputDecryptorProviderBuilder()
          .setProvider(org.keyarc.protocol.Bc.PROVIDER).build(password);
      List<PKCS12SafeBag> bags = new ArrayList<>();
      for (org.bouncycastle.asn1.pkcs.ContentInfo ci : pdu.getContentInfos()) {
        PKCS12SafeBagFactory f = ci.getContentType().equals(PKCSObjectIdentifiers.encryptedData)
            ? new PKCS12SafeBagFactory(ci, dec) : new PKCS12SafeBagFactory(ci);
        bags.addAll(Arrays.asList(f.getSafeBags()));
      }
      List<X509CertificateHolder> certs = new ArrayList<>();
      List<byte[]> certIds = new ArrayList<>();
      List<PKCS12SafeBag> keys = new ArrayList<>();
      for (PKCS12SafeBag b : bags) {
        if (b.getBagValue() instanceof X509CertificateHolder c) {
          certs.add(c);
          certIds.add(localKeyId(b));
        } else if (b.getBagValue() instanceof PKCS8EncryptedPrivateKeyInfo || b.getBagValue() instanceof PrivateKeyInfo) {
          keys.add(b);
        }
      }
      if (keys.isEmpty()) {
        throw new RecoveryException(ErrorCode.BAD_INPUT, "the file holds no private key");
      }
      List<Pkcs12Writer.Entry> out = new ArrayList<>();
      List<X509CertificateHolder> own = new ArrayList<>();
      try {
        for (PKCS12SafeBag k : keys) {
          byte[] id = localKeyId(k);
          int at = -1;
          for (int i = 0; i < certs.size(); i++) {
            if (id != null && Arrays.equals(id, certIds.get(i))) {
              at = i;
            }
          }
          if (at < 0) {
            throw new RecoveryException(ErrorCode.BAD_INPUT, "a key in the file has no certificate with its local key "
                + "id");
          }
          PrivateKeyInfo info = k.getBagValue() instanceof PKCS8EncryptedPrivateKeyInfo e ? e.decryptPrivateKeyInfo(dec)
              : (PrivateKeyInfo) k.getBagValue();
          own.add(certs.get(at));
          out.add(new Pkcs12Writer.Entry(new RecoveredKey(info.getEncoded("DER"), info.getPrivateKeyAlgorithm()
              .getAlgorithm().getId()), certs.get(at), List.of(), friendlyName(k)));
        }
      } catch (RecoveryException | RuntimeException | org.bouncycastle.pkcs.PKCSException | java.io.IOException e) {
        for (Pkcs12Writer.Entry done : out) {
          done.key().close(); // the keys read before the failure
        }
        throw e;
      }
      // the other certificates only where they issued the keys' certificates (or each other, up the chain): a
      // stranger's root in an input is not carried into the merged file
      List<X509CertificateHolder> chain = new ArrayList<>();
      List<X509CertificateHolder> below = new ArrayList<>(own);
      for (boolean grew = true; grew; ) {
        grew = false;
        for (X509CertificateHolder c : certs) {
          if (!own.contains(c) && !chain.contains(c) && below.stream().anyMatch(b -> !b.equals(c)
              && b.getIssuer().equals(c.getSubject()) && RecoveryBlob.signedBy(b, c))) {
            chain.add(c);
            below.add(c);
            grew = true;
          }
        }
      }
      List<Pkcs12Writer.Entry> withChain = new ArrayList<>();
      for (Pkcs12Writer.Entry e : out) {
        withChain.add(new Pkcs12Writer.Entry(e.key(), e.cert(), chain, e.friendlyName()));
      }
      return withChain;
    } catch (RecoveryException e) {
      throw e;
    } catch (java.io.IOException | org.bouncycastle.pkcs.PKCSException | RuntimeException e) {
      throw new RecoveryException(ErrorCode.BAD_INPUT, "the file is not a PKCS#12 this password opens: "
          + e.getMessage());
    }
  }

  private static byte[] localKeyId(PKCS12SafeBag b) {
    for (org.bouncycastle.asn1.pkcs.Attribute a : b.getAttributes() == null
        ? new org.bouncycastle.asn1.pkcs.Attribute[0] : b.getAttributes()) {
      if (a.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_localKeyId)) {
        return org.bouncycastle.asn1.ASN1OctetString.getInstance(a.getAttrValues().getObjectAt(0)).getOctets();
      }
    }
    return null;
  }

  private static String friendlyName(PKCS12SafeBag b) {
    for (org.bouncycastle.asn1.pkcs.Attribute a : b.getAttributes() == null
        ? new org.bouncycastle.asn1.pkcs.Attribute[0] : b.getAttributes()) {
      if (a.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_friendlyName)) {
        ASN1Encodable v = a.getAttrValues().getObjectAt(0);
        return org.bouncycastle.asn1.ASN1String.class.isInstance(v) ? ((org.bouncycastle.asn1.ASN1String) v)
            .getString() : v.toString();
      }
    }
    return "recovered key";
  }
}
