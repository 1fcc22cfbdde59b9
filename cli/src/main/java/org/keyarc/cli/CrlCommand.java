package org.keyarc.cli;

import java.nio.file.Path;
import java.util.List;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.x509.CertificateList;
import org.bouncycastle.cert.X509CRLHolder;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyarc crl get}: the current CRL, by CMP genm (id-it-currentCRL). */
@Command(name = "crl", description = "Certificate revocation lists.", mixinStandardHelpOptions = true)
final class CrlCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "get", description = "Fetch the current CRL (PEM by default; --der for DER).")
  int get(@Mixin NodeOptions node,
      @Option(names = "--out", paramLabel = "FILE", description = "write it here instead of standard output")
          Path out,
      @Option(names = "--der") boolean der,
      @Option(names = "--force") boolean force) throws Exception {
    X509CRLHolder crl;
    try (CmpClient c = node.anonymousClient()) {
      List<InfoTypeAndValue> rep = c.genm(new InfoTypeAndValue(CMPObjectIdentifiers.it_currentCRL));
      if (rep.isEmpty()) {
        throw new Keyarc.UserException(ErrorCode.BAD_MESSAGE, "the node sent no CRL");
      }
      crl = new X509CRLHolder(CertificateList.getInstance(rep.get(0).getInfoValue()));
    }
    byte[] bytes = der ? crl.getEncoded() : CliFiles.pem(crl).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    if (out == null) {
      if (der) {
        System.out.write(bytes);
        System.out.flush();
      } else {
        spec.commandLine().getOut().print(new String(bytes, java.nio.charset.StandardCharsets.US_ASCII));
      }
      return 0;
    }
    CliFiles.write(out, bytes, false, force);
    spec.commandLine().getErr().println("wrote " + out + " (" + crl.getRevokedCertificates().size()
        + " revoked, next update " + crl.getNextUpdate().toInstant() + ")");
    return 0;
  }
}
