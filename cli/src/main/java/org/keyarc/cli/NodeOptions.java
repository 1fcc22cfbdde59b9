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
  /** The node URL when neither --node nor $KEYARC_NODE names one: the binary listener over TLS. */
  public static final String DEFAULT_URL = "tls://127.0.0.1:8700";

  @Option(names = "--node", paramLabel = "URL", description = "the CA node: tls://HOST:PORT (binary over TLS) or "
      + "https://HOST:PORT/; in clear, only when you name it, tcp://HOST:PORT or http://HOST:PORT/ (default "
      + "$KEYARC_NODE, else " + DEFAULT_URL + ")")
  String node;

  @Option(names = "--cert", paramLabel = "FILE", description = "your certificate (PEM), issued by this CA")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "your private key (PEM, unencrypted, 0600)")
  Path key;

  @Option(names = "--ca-cert", paramLabel = "FILE", description = "the CA certificate that signs the node's answers "
      + "and the only trust anchor of TLS (default $KEYARC_HOME/ca.crt)")
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
    return env != null && !env.isBlank() ? env : DEFAULT_URL;
  }

  /** True when {@link #url()} is TLS (tls:// or https://). */
  public boolean tls() {
    String u = url();
    return u.startsWith("tls://") || u.startsWith("https://");
  }

  /**
   * A transport to the node; for tls:// and https:// the CA certificate ({@code --ca-cert}, else $KEYARC_HOME/ca.crt)
   * is the only trust anchor and the node's certificate must name the host dialled. {@code shared} event loops
   * for many binary connections, or null. Public for the commands of the modules above (keyarc bench).
   */
  public CmpTransport transport(io.netty.channel.EventLoopGroup shared) throws Keyarc.UserException,
      CmpClientException {
    return CmpTransport.connect(url(), tls() ? trustedCa(true) : null, shared);
  }

  public X509CertificateHolder trustedCa(boolean required) throws Keyarc.UserException {
    Path f = caCert != null ? caCert : CliFiles.defaultCaCert();
    if (!Files.isReadable(f)) {
      if (!required) {
        return null;
      }
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "the CA certificate " + f + " is missing; give --ca-cert "
          + "FILE (keyarc ca init writes it to $KEYARC_HOME/ca.crt; it is also the trust anchor of TLS)");
    }
    return CliFiles.readCertificate(f);
  }

  /**
   * Every certificate in the CA certificate file ({@link #trustedCa}'s first): after a rollover the CA's keys under
   * one name, as GET /ca-certs.pem serves them.
   */
  public java.util.List<X509CertificateHolder> trustedCas() throws Keyarc.UserException {
    trustedCa(true); // the same checks and errors
    return CliFiles.readCertificates(caCert != null ? caCert : CliFiles.defaultCaCert());
  }

  /** A client protected with --cert/--key. */
  CmpClient signedClient() throws Keyarc.UserException, CmpClientException {
    if (cert == null || key == null) {
      throw new Keyarc.UserException(ErrorCode.NOT_AUTHORIZED, "this command is signed with your certificate: "
          + "give --cert FILE and --key FILE");
    }
    Protection p = new Protection.Signature(CliFiles.readCertificate(cert), CliFiles.readPrivateKey(key), null);
    return new CmpClient(transport(null), p, trustedCa(true));
  }

  /** A client for public information (no protection). */
  CmpClient anonymousClient() throws Keyarc.UserException, CmpClientException {
    return new CmpClient(transport(null), new Protection.None(), trustedCa(true));
  }
}
