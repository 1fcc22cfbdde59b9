package org.keyarc.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;
import picocli.CommandLine.Option;

/**
 * How a remote command reaches the CA node and proves who is asking: the node's URL and the caller's
 * certificate and key (signature-protected CMP). The node checks the caller's role; the CLI does not. Public for
 * the commands of the modules above (keyarc bench).
 */
public final class NodeOptions {
  @Option(names = "--node", paramLabel = "URL", description = "the CA node: tcp://HOST:PORT (binary) or "
      + "http://HOST:PORT/ (default $KEYARC_NODE, else tcp://127.0.0.1:8700)")
  String node;

  @Option(names = "--cert", paramLabel = "FILE", description = "your certificate (PEM), issued by this CA")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "your private key (PEM, unencrypted, 0600)")
  Path key;

  @Option(names = "--ca-cert", paramLabel = "FILE", description = "the CA certificate that signs the node's answers "
      + "(default $KEYARC_HOME/ca.crt)")
  Path caCert;

  /** --cert, or null. */
  public Path cert() {
    return cert;
  }

  /** --key, or null. */
  public Path key() {
    return key;
  }

  public String url() {
    if (node != null) {
      return node;
    }
    String env = System.getenv("KEYARC_NODE");
    return env != null && !env.isBlank() ? env : "tcp://127.0.0.1:8700";
  }

  public X509CertificateHolder trustedCa(boolean required) throws Keyarc.UserException {
    Path f = caCert != null ? caCert : CliFiles.defaultCaCert();
    if (!Files.isReadable(f)) {
      if (!required) {
        return null;
      }
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "the CA certificate " + f + " is missing; give --ca-cert "
          + "FILE (keyarc ca init writes it to $KEYARC_HOME/ca.crt)");
    }
    return CliFiles.readCertificate(f);
  }

  /** A client protected with --cert/--key. */
  CmpClient signedClient() throws Keyarc.UserException, CmpClientException {
    if (cert == null || key == null) {
      throw new Keyarc.UserException(ErrorCode.NOT_AUTHORIZED, "this command is signed with your certificate: "
          + "give --cert FILE and --key FILE");
    }
    Protection p = new Protection.Signature(CliFiles.readCertificate(cert), CliFiles.readPrivateKey(key), null);
    return new CmpClient(CmpTransport.connect(url(), null), p, trustedCa(true));
  }

  /** A client for public information (no protection). */
  CmpClient anonymousClient() throws Keyarc.UserException, CmpClientException {
    return new CmpClient(CmpTransport.connect(url(), null), new Protection.None(), trustedCa(true));
  }
}
