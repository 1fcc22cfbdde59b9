package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.HexFormat;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.keyarc.ca.config.X500Subject;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmSigners;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyPolicy;
import org.keyarc.hsm.KeySpec;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.SignatureAlgorithm;
import org.keyarc.protocol.Bc;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.Protection;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc enroll}: generate a key pair (in software, or on a PKCS#11 token), request a certificate
 * over either transport (ir/cr/p10cr/kur), write the key (0600) and the certificate (PEM). A request
 * held for approval leaves a {@code .pending} file; {@code --resume} polls it later.
 */
@Command(name = "enroll", mixinStandardHelpOptions = true, description = "Request a certificate from the CA node.")
public final class EnrollCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  NodeOptions node;

  @Option(names = "--subject", paramLabel = "DN", description = "subject of the certificate (with a one-time "
      + "secret: may be left out, the secret names it)")
  String subject;

  @Option(names = "--template", paramLabel = "T", description = "template (default: the secret's, else the CA's "
      + "default)")
  String template;

  @Option(names = "--body", defaultValue = "ir", description = "ir (default), cr, p10cr or kur")
  String body;

  @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE",
      description = "p256 (default), p384, rsa2048, rsa3072, rsa4096")
  String keyType;

  @Option(names = "--out-key", paramLabel = "FILE", description = "where to write the new private key (PEM, 0600)")
  Path outKey;

  @Option(names = "--out-cert", paramLabel = "FILE", required = true, description = "where to write the "
      + "certificate (PEM)")
  Path outCert;

  @Option(names = "--force", description = "overwrite existing output files")
  boolean force;

  @Option(names = "--implicit-confirm", description = "ask the CA to skip the certConf round trip")
  boolean implicitConfirm;

  @Option(names = "--wait", defaultValue = "0", paramLabel = "SECONDS", description = "when the request is held "
      + "for approval, keep polling this long (default 0: write FILE.pending and return)")
  int waitSeconds;

  @Option(names = "--resume", paramLabel = "PENDING-FILE", description = "poll a request left pending earlier")
  Path resume;

  @Option(names = "--archive", description = "send the private key for archival (templates such as "
      + "ExchangeUserKeyArc): it is encrypted to the CA's exchange certificate, fetched and checked first")
  boolean archive;

  @Option(names = "--oaep-hash", defaultValue = "auto", description = "RSA-OAEP hash for --archive: auto (what the "
      + "exchange certificate lists first, SHA-256 where the CA's HSM unwraps with it; else SHA-1), SHA-1 or SHA-256")
  String oaepHash;

  /** MAC protection with a one-time secret. */
  static final class MacOptions {
    @Option(names = "--ref", required = true, paramLabel = "REFERENCE", description = "the one-time secret's reference")
    String reference;

    @Option(names = "--secret-file", paramLabel = "FILE", description = "read the secret from FILE (else "
        + "$KEYARC_SECRET, else a prompt)")
    Path secretFile;

    @Option(names = "--pbmac1", description = "protect with PBMAC1 (RFC 9481) instead of PBM")
    boolean pbmac1;
  }

  @ArgGroup(exclusive = false)
  MacOptions mac;

  @Option(names = "--key-label", paramLabel = "LABEL", description = "generate the key on the PKCS#11 token given "
      + "by --module/--token/--pin-file instead of in software; it never leaves the token")
  String keyLabel;

  @Mixin
  HsmOptions hsm;

  @Option(names = "--central-keygen", description = "let the CA generate the key pair in its HSM (templates with "
      + "centralKeygen, such as ExchangeUser): it is archived to the recovery agents and returned encrypted to this "
      + "request's secret or signing key; --key-type names the algorithm (the CA picks the RSA size)")
  boolean centralKeygen;

  private org.bouncycastle.asn1.crmf.EncryptedKey archived;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    int bodyType = bodyType(body);
    Protection protection = protection();
    X509CertificateHolder ca = node.trustedCa(mac == null || archive);
    try (CmpClient client = new CmpClient(node.transport(null), protection, ca)) {
      if (resume != null) {
        return finish(out, client, client.poll(readPending(resume), Duration.ofSeconds(waitSeconds),
            msg -> spec.commandLine().getErr().println(msg)), ca);
      }
      CliFiles.checkWritable(outCert, force);
      X500Name dn = subject == null ? new X500Name("") : parse(subject);
      if (centralKeygen) {
        return central(out, client, bodyType, dn, ca);
      }
      if (keyLabel != null) {
        if (archive) {
          throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--archive needs the private key in software: a key "
              + "made on a token (--key-label) cannot be sent for archival");
        }
        return onToken(out, client, bodyType, dn, ca);
      }
      if (archive && bodyType == PKIBody.TYPE_P10_CERT_REQ) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--archive needs ir, cr or kur: PKCS#10 cannot carry "
            + "archive options");
      }
      if (outKey == null) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "give --out-key FILE for the new private key (or "
            + "--key-label to make it on a token)");
      }
      CliFiles.checkWritable(outKey, force);
      KeyPair kp = generate(keyType);
      if (archive) {
        X509CertificateHolder exchange = client.exchangeCertificate();
        org.keyarc.hsm.OaepHash hash = oaepHash(oaepHash, exchange);
        archived = org.keyarc.protocol.client.ArchiveEncryption.encryptedValue(
            org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange,
            hash.jcaName());
        out.println("archival      key encrypted to exchange certificate " + exchange.getSerialNumber().toString(16)
            + " (until " + exchange.getNotAfter().toInstant() + "), RSA-OAEP " + hash.jcaName());
      }
      CliFiles.write(outKey, CliFiles.pkcs8Pem(kp.getPrivate()).getBytes(StandardCharsets.US_ASCII), true, force);
      out.println("key           " + keyType + " written to " + outKey + " (0600)");
      String alg = kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA"
          : keyType.contains("384") ? "SHA384withECDSA" : "SHA256withECDSA";
      ContentSigner pop = new JcaContentSignerBuilder(alg).build(kp.getPrivate());
      SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
      try {
        return send(out, client, bodyType, dn, spki, pop, ca);
      } catch (CmpClientException e) {
        Files.deleteIfExists(outKey); // refused: the new key belongs to no certificate
        throw e;
      }
    }
  }

  /** Central key generation: the request carries no key; the answer's key is checked and written to --out-key. */
  private int central(PrintWriter out, CmpClient client, int bodyType, X500Name dn, X509CertificateHolder ca)
      throws Exception {
    if (archive || keyLabel != null || (bodyType != PKIBody.TYPE_INIT_REQ && bodyType != PKIBody.TYPE_CERT_REQ)) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--central-keygen is for ir and cr, without --archive or "
          + "--key-label: the CA makes and archives the key");
    }
    if (outKey == null) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "give --out-key FILE for the key the CA generates");
    }
    CliFiles.checkWritable(outKey, force);
    KeySpec ks = KeySpec.parse(keyType);
    org.bouncycastle.asn1.x509.AlgorithmIdentifier alg = ks.type() == org.keyarc.hsm.KeyHandle.KeyType.RSA
        ? new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE)
        : new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey, ks.curve());
    CmpClient.Result r = client.enrollCentral(bodyType, dn, alg, template, implicitConfirm);
    if (r.pending() != null) {
      throw new Keyarc.UserException(ErrorCode.BAD_REQUEST, "the CA holds the request for approval; central key "
          + "generation is for templates that issue at once");
    }
    if (r.enrolled().generatedKey() == null) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the CA issued a certificate but returned no key");
    }
    java.security.PrivateKey key = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(
        r.enrolled().generatedKey());
    CliFiles.write(outKey, CliFiles.pkcs8Pem(key).getBytes(StandardCharsets.US_ASCII), true, force);
    out.println("key           generated by the CA in its HSM, archived to the recovery agents, returned encrypted, "
        + "checked against the certificate, written to " + outKey + " (0600)");
    return finish(out, client, r, ca);
  }

  private int onToken(PrintWriter out, CmpClient client, int bodyType, X500Name dn, X509CertificateHolder ca)
      throws Exception {
    try (HsmModule m = hsm.load(); HsmToken token = hsm.open(m, true)) {
      KeySpec spec = KeySpec.parse(keyType);
      HsmSession.GeneratedKeyPair kp = token.call(s -> {
        if (s.findKeyOrNull(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel) != null && !force) {
          throw new org.keyarc.hsm.HsmException(org.keyarc.hsm.HsmException.Reason.BAD_INPUT, "enroll", token.label(),
              "token " + token.label() + " already holds a key labelled '" + keyLabel + "'; use --force or another "
                  + "--key-label");
        }
        return s.generateKeyPair(spec, KeyPolicy.ENROLLEE_SIGNING, keyLabel);
      });
      out.println("key           " + keyType + " generated on token " + token.label() + " as pkcs11:token="
          + token.label() + ";object=" + keyLabel + " (not extractable)");
      ContentSigner pop = HsmSigners.iaik(token).signer(kp.privateKey(), SignatureAlgorithm.defaultFor(spec));
      return send(out, client, bodyType, dn, SubjectPublicKeyInfo.getInstance(kp.publicKey().getEncoded()), pop, ca);
    }
  }

  private int send(PrintWriter out, CmpClient client, int bodyType, X500Name dn, SubjectPublicKeyInfo spki,
      ContentSigner pop, X509CertificateHolder ca) throws Exception {
    CmpClient.Result r;
    if (bodyType == PKIBody.TYPE_P10_CERT_REQ) {
      PKCS10CertificationRequest csr = new PKCS10CertificationRequestBuilder(dn, spki).build(pop);
      r = client.p10cr(csr, template, implicitConfirm);
    } else {
      r = client.enroll(bodyType, dn, spki, pop, template, implicitConfirm, null, archived);
    }
    if (r.pending() != null && waitSeconds > 0) {
      r = client.poll(r.pending(), Duration.ofSeconds(waitSeconds), msg -> spec.commandLine().getErr().println(msg));
    }
    return finish(out, client, r, ca);
  }

  private int finish(PrintWriter out, CmpClient client, CmpClient.Result r, X509CertificateHolder ca)
      throws Exception {
    if (r.pending() != null) {
      Path pending = Path.of(outCert + ".pending");
      ObjectNode state = AdminCall.JSON.createObjectNode().put("node", node.url())
          .put("transactionId", r.pending().transactionHex()).put("certReqId", r.pending().certReqId())
          .put("bodyType", r.pending().bodyType());
      CliFiles.write(pending, state.toPrettyString().getBytes(StandardCharsets.UTF_8), false, true);
      out.println("pending       the request waits for a certificate manager's approval");
      out.println("              later: keyarc enroll --resume " + pending + " --out-cert " + outCert
          + " (with the same --ref/--cert options)");
      return 0;
    }
    X509CertificateHolder cert = r.enrolled().cert();
    X509CertificateHolder issuer = ca != null ? ca : r.enrolled().caPubs().isEmpty() ? null
        : r.enrolled().caPubs().get(0);
    if (issuer != null && !cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER)
        .build(issuer))) {
      throw new CmpClientException(ErrorCode.BAD_MESSAGE_CHECK, "the certificate is not signed by " + issuer.getSubject());
    }
    CliFiles.write(outCert, CliFiles.pem(cert).getBytes(StandardCharsets.US_ASCII), false, force || resume != null);
    if (resume != null) {
      Files.deleteIfExists(resume);
    }
    out.println("certificate   " + cert.getSubject() + ", serial " + cert.getSerialNumber().toString(16) + ", until "
        + cert.getNotAfter().toInstant());
    org.bouncycastle.asn1.x509.GeneralNames names = org.bouncycastle.asn1.x509.GeneralNames.fromExtensions(
        cert.getExtensions(), org.bouncycastle.asn1.x509.Extension.subjectAlternativeName);
    if (names != null) {
      // the names come from the one-time secret (or the certificate renewed), never from this request
      for (org.bouncycastle.asn1.x509.GeneralName n : names.getNames()) {
        out.println("names         " + org.keyarc.ca.template.SanType.text(n));
      }
    }
    out.println("wrote         " + outCert + (outKey != null && resume == null ? " and " + outKey : ""));
    return 0;
  }

  private Protection protection() throws Keyarc.UserException {
    if (mac != null) {
      char[] secret;
      try {
        if (mac.secretFile != null) {
          secret = PinSource.fromFile(mac.secretFile);
        } else {
          secret = PinSource.fromEnv("KEYARC_SECRET");
          if (secret == null) {
            secret = PinSource.prompt("one-time secret for reference " + mac.reference + ": ");
          }
        }
      } catch (IOException e) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read the secret: " + e.getMessage());
      }
      if (secret == null) {
        throw new Keyarc.UserException(ErrorCode.SECRET_INVALID, "no secret: use --secret-file FILE, $KEYARC_SECRET "
            + "or a terminal");
      }
      return new Protection.Mac(mac.reference, secret, mac.pbmac1);
    }
    if (node.cert != null && node.key != null) {
      return new Protection.Signature(CliFiles.readCertificate(node.cert), CliFiles.readPrivateKey(node.key), null);
    }
    throw new Keyarc.UserException(ErrorCode.NOT_AUTHORIZED, "protect the request with a one-time secret (--ref and "
        + "--secret-file) or with your certificate (--cert and --key)");
  }

  private static CmpClient.Pending readPending(Path file) throws Keyarc.UserException {
    try {
      JsonNode n = AdminCall.JSON.readTree(Files.readString(file));
      return new CmpClient.Pending(HexFormat.of().parseHex(n.path("transactionId").asText()),
          n.path("certReqId").asInt(), n.path("bodyType").asInt(), 0);
    } catch (IOException | IllegalArgumentException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read the pending request " + file + ": "
          + e.getMessage());
    }
  }

  private static int bodyType(String body) throws Keyarc.UserException {
    switch (body) {
      case "ir": return PKIBody.TYPE_INIT_REQ;
      case "cr": return PKIBody.TYPE_CERT_REQ;
      case "p10cr": return PKIBody.TYPE_P10_CERT_REQ;
      case "kur": return PKIBody.TYPE_KEY_UPDATE_REQ;
      default: throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--body must be ir, cr, p10cr or kur, not " + body);
    }
  }

  private static X500Name parse(String dn) throws Keyarc.UserException {
    try {
      return X500Subject.parse(dn);
    } catch (IllegalArgumentException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_SUBJECT, "--subject " + e.getMessage());
    }
  }

  /** A software key pair of {@code keyType} (p256, rsa2048...); public for the load generator (keyarc bench). */
  public static KeyPair generate(String keyType) throws Exception {
    KeySpec spec;
    try {
      spec = KeySpec.parse(keyType);
    } catch (IllegalArgumentException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, e.getMessage());
    }
    switch (spec.type()) {
      case RSA: {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(spec.bits());
        return g.generateKeyPair();
      }
      case EC: {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(spec == KeySpec.EC_P384 ? "secp384r1" : "secp256r1"));
        return g.generateKeyPair();
      }
      default:
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, keyType + " is not a key pair type");
    }
  }

  /** The OAEP hash {@code option} names for the exchange certificate ("auto": what it lists); a typo is exit 36. */
  static org.keyarc.hsm.OaepHash oaepHash(String option, X509CertificateHolder exchange) throws Keyarc.UserException {
    try {
      return org.keyarc.protocol.OaepCapabilities.choose(option, exchange);
    } catch (IllegalArgumentException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--oaep-hash: " + e.getMessage().replace("SHA-1 or",
          "auto, SHA-1 or"));
    }
  }
}
