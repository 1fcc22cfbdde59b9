package org.keyarc.cli;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.keyarc.ca.config.ConfigException;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.protocol.ErrorCode;

/**
 * Files the CLI reads and writes: PEM certificates and keys, the node configuration, keyarc's home. The readers
 * are public for the commands of the modules above (keyarc bench).
 */
public final class CliFiles {
  private CliFiles() {}

  /** $KEYARC_HOME, default ~/.keyarc. */
  static Path home() {
    String h = System.getProperty("keyarc.home", System.getenv("KEYARC_HOME"));
    return h != null && !h.isBlank() ? Path.of(h) : Path.of(System.getProperty("user.home"), ".keyarc");
  }

  /** The CA certificate ca init leaves for clients: $KEYARC_HOME/ca.crt. */
  static Path defaultCaCert() {
    return home().resolve("ca.crt");
  }

  /**
   * The node configuration: {@code --config FILE}, else $KEYARC_HOME/ca.yaml when present, else the
   * embedded defaults (SoftHSM2 token keyarc-ca, embedded database under $KEYARC_HOME/ca).
   */
  static NodeConfig config(Path file) throws Keyarc.UserException {
    try {
      if (file != null) {
        if (!Files.isReadable(file)) {
          throw new Keyarc.UserException(ErrorCode.CONFIG_INVALID, "cannot read the configuration " + file);
        }
        return NodeConfig.load(file);
      }
      Path dflt = home().resolve("ca.yaml");
      if (Files.isReadable(dflt)) {
        return NodeConfig.load(dflt);
      }
      String module = System.getenv("KEYARC_PKCS11_MODULE");
      String pinDir = System.getenv("KEYARC_PIN_DIR");
      return NodeConfig.defaults(home(), module == null ? "/usr/lib/softhsm/libsofthsm2.so" : module,
          pinDir == null ? null : Path.of(pinDir, "keyarc-ca.pin").toString());
    } catch (ConfigException e) {
      throw new Keyarc.UserException(ErrorCode.CONFIG_INVALID, e.getMessage());
    }
  }

  public static X509CertificateHolder readCertificate(Path file) throws Keyarc.UserException {
    try {
      return org.keyarc.ca.keys.CaInit.readCertificate(Files.readAllBytes(file));
    } catch (IOException | RuntimeException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read a certificate from " + file + ": "
          + e.getMessage());
    }
  }

  /** The CRL in a file, PEM or DER. */
  public static org.bouncycastle.cert.X509CRLHolder readCrl(Path file) throws Keyarc.UserException {
    try {
      byte[] data = Files.readAllBytes(file);
      String text = new String(data, StandardCharsets.US_ASCII);
      if (text.contains("-----BEGIN")) {
        try (PEMParser p = new PEMParser(new StringReader(text))) {
          if (p.readObject() instanceof org.bouncycastle.cert.X509CRLHolder crl) {
            return crl;
          }
        }
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " holds no CRL");
      }
      return new org.bouncycastle.cert.X509CRLHolder(data);
    } catch (IOException | RuntimeException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read a CRL from " + file + ": " + e.getMessage());
    }
  }

  /** Every certificate in a PEM file, in file order (at least one); a DER file holds one. */
  public static java.util.List<X509CertificateHolder> readCertificates(Path file) throws Keyarc.UserException {
    java.util.List<X509CertificateHolder> out = new java.util.ArrayList<>();
    try {
      if (!Files.readString(file, StandardCharsets.ISO_8859_1).contains("-----BEGIN")) {
        return java.util.List.of(readCertificate(file));
      }
    } catch (IOException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read certificates from " + file + ": "
          + e.getMessage());
    }
    try (PEMParser p = new PEMParser(new StringReader(Files.readString(file, StandardCharsets.US_ASCII)))) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (!(o instanceof X509CertificateHolder c)) {
          throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " holds something else than certificates");
        }
        out.add(c);
      }
    } catch (IOException | RuntimeException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read certificates from " + file + ": "
          + e.getMessage());
    }
    if (out.isEmpty()) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " holds no PEM certificate");
    }
    return out;
  }

  public static PrivateKey readPrivateKey(Path file) throws Keyarc.UserException {
    try (PEMParser p = new PEMParser(new StringReader(Files.readString(file, StandardCharsets.US_ASCII)))) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        return conv.getPrivateKey(kp.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " holds no unencrypted PEM private key");
    } catch (IOException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read the private key " + file + ": "
          + e.getMessage());
    }
  }

  /** A private key as PKCS#8 PEM ("PRIVATE KEY"), the form OpenSSL and every TLS stack read. */
  static String pkcs8Pem(PrivateKey key) {
    try {
      return pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null).generate());
    } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }

  /** Refuses to overwrite without {@code force}; says which file. */
  static void checkWritable(Path file, boolean force) throws Keyarc.UserException {
    if (Files.exists(file) && !force) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " exists; use --force to overwrite it");
    }
  }

  /** Writes a file; {@code secret} files are created 0600 before any byte is written. */
  static void write(Path file, byte[] data, boolean secret, boolean force) throws Keyarc.UserException {
    checkWritable(file, force);
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (secret) {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, data, StandardOpenOption.TRUNCATE_EXISTING);
      } else {
        Files.write(file, data);
      }
    } catch (FileAlreadyExistsException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " exists; use --force to overwrite it");
    } catch (IOException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot write " + file + ": " + e.getMessage());
    }
  }
}
