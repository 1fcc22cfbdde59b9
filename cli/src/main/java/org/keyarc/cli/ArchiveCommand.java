package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.Collections;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.client.ArchiveEncryption;
import org.keyarc.protocol.client.CmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc archive import}: brings an existing key (from another CA, an Exchange KMS, an old ADCS export) into
 * the archive. The key is read from the PKCS#12 here, encrypted at once to the CA's exchange certificate exactly as
 * an archival enrollment sends it, and the node archives it through the same HSM path (certificate manager or
 * administrator).
 */
@Command(name = "archive", description = "Archive existing keys.", mixinStandardHelpOptions = true)
final class ArchiveCommand {
  @Spec
  CommandSpec spec;

  private Path report;
  private boolean force;

  @Command(name = "import", description = "Archive the keys of a PKCS#12 file, or a PEM private key (PKCS#8) with its "
      + "certificate (--pem-key, --pem-cert), of this CA's certificates. The key is encrypted here to the CA's exchange "
      + "certificate; the node unwraps it in its HSM, checks it belongs to the certificate, and wraps it to the "
      + "recovery agents.")
  int importKey(@Mixin NodeOptions node,
      @Option(names = "--p12", paramLabel = "FILE") Path p12,
      @Option(names = "--pem-key", paramLabel = "FILE", description = "a PEM private key (PKCS#8 or traditional), "
          + "with --pem-cert") Path keyFile,
      @Option(names = "--pem-cert", paramLabel = "FILE", description = "the key's certificate, with --pem-key")
          Path certFile,
      @Option(names = "--password-file", paramLabel = "FILE", description = "the PKCS#12 password (else asked)")
          Path passwordFile,
      @Option(names = "--oaep-hash", defaultValue = "auto", description = "RSA-OAEP hash to the exchange "
          + "certificate: auto (what it lists first; else SHA-1, what SoftHSM2 unwraps), SHA-1 or SHA-256")
          String oaepHash,
      @Option(names = "--report", paramLabel = "CSV", description = "write one line per key (serial, issuer, subject, "
          + "archived or refused, reason): the migration's record") Path report,
      @Option(names = "--force", description = "overwrite the report") boolean force) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (report != null) {
      CliFiles.checkWritable(report, force);
    }
    this.report = report;
    this.force = force;
    if ((p12 == null) == (keyFile == null) || (keyFile == null) != (certFile == null)) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "give either --p12 FILE, or --pem-key FILE with --pem-cert FILE");
    }
    java.util.List<PrivateKey> keys = new java.util.ArrayList<>();
    java.util.List<X509CertificateHolder> certs = new java.util.ArrayList<>();
    if (keyFile != null) {
      keys.add(CliFiles.readPrivateKey(keyFile));
      certs.add(CliFiles.readCertificate(certFile));
      return archive(node, out, keys, certs, oaepHash);
    }
    char[] password = passwordFile != null ? PinSource.fromFile(passwordFile) : PinSource.prompt("PKCS#12 password: ");
    if (password == null) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "no PKCS#12 password: give --password-file FILE");
    }
    // every key of the file (an export of many users' keys, as an old KMS gives them), each with its certificate
    try (InputStream in = Files.newInputStream(p12)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      for (String alias : Collections.list(ks.aliases())) {
        if (!ks.isKeyEntry(alias)) {
          continue;
        }
        java.security.cert.Certificate c = ks.getCertificate(alias);
        if (c == null) {
          throw new Keyarc.UserException(ErrorCode.BAD_INPUT, p12 + ": the key '" + alias + "' has no certificate");
        }
        keys.add((PrivateKey) ks.getKey(alias, password));
        certs.add(new X509CertificateHolder(c.getEncoded()));
      }
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read " + p12 + ": " + e.getMessage()
          + " (a wrong password reads as a damaged file)");
    } finally {
      HsmToken.wipe(password);
    }
    if (keys.isEmpty()) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, p12 + " holds no private key");
    }
    return archive(node, out, keys, certs, oaepHash);
  }

  /** Archives each key with its certificate, key by key; one refused among several is reported and counted. */
  private int archive(NodeOptions node, PrintWriter out, java.util.List<PrivateKey> keys,
      java.util.List<X509CertificateHolder> certs, String oaepHash) throws Exception {
    int refused = 0;
    String firstReason = null;
    StringBuilder csv = new StringBuilder("serial,issuer,subject,result,detail\n");
    try (CmpClient client = node.signedClient()) {
      X509CertificateHolder exchange = client.exchangeCertificate();
      String hash = EnrollCommand.oaepHash(oaepHash, exchange).jcaName();
      for (int i = 0; i < keys.size(); i++) {
        X509CertificateHolder cert = certs.get(i);
        EncryptedKey encrypted = ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(keys.get(i)
            .getEncoded()), exchange, hash);
        try {
          String answer = client.admin(AdminCall.request(AdminOp.ARCHIVE_IMPORT)
              .put(AdminFields.CERTIFICATE, Base64.getEncoder().encodeToString(cert.getEncoded()))
              .put(AdminFields.ENCRYPTED_KEY, Base64.getEncoder().encodeToString(encrypted.getEncoded("DER")))
              .toString());
          JsonNode r = AdminCall.JSON.readTree(answer);
          out.println("archived      key of " + r.path("subject").asText() + " (serial " + r.path("serial").asText()
              + ", issuer " + r.path("issuer").asText() + "), " + r.path("threshold").asInt() + " of "
              + r.path("agents").asInt() + " agents");
          csv.append(row(cert, "archived", r.path("threshold").asInt() + " of " + r.path("agents").asInt()
              + " agents"));
        } catch (org.keyarc.protocol.client.CmpClientException e) {
          csv.append(row(cert, "refused", e.getMessage()));
          if (keys.size() == 1) {
            writeReport(csv, out);
            throw e; // one key: its own error and exit code
          }
          refused++;
          firstReason = firstReason == null ? e.getMessage() : firstReason;
          out.println("refused       key of " + cert.getSubject() + " (serial " + cert.getSerialNumber().toString(16)
              + "): " + e.getMessage());
        }
      }
    }
    writeReport(csv, out);
    if (refused > 0) {
      throw new Keyarc.UserException(ErrorCode.BAD_REQUEST, refused + " of " + keys.size() + " keys were not "
          + "archived (first: " + firstReason + ")");
    }
    return 0;
  }

  private void writeReport(StringBuilder csv, PrintWriter out) throws Keyarc.UserException {
    if (report != null) {
      CliFiles.write(report, csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), false, force);
      out.println("wrote         " + report + " (one line per key)");
    }
  }

  /** One CSV line (RFC 4180 quoting). */
  private static String row(X509CertificateHolder cert, String result, String detail) {
    return String.join(",", cert.getSerialNumber().toString(16), quote(cert.getIssuer().toString()),
        quote(cert.getSubject().toString()), result, quote(detail)) + "\n";
  }

  private static String quote(String s) {
    return "\"" + org.keyarc.ca.support.Texts.printable(s).replace("\"", "\"\"") + "\"";
  }
}
