package org.keyarc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.agent.recovery.Pkcs12Writer;
import org.keyarc.agent.recovery.RecoveredKey;
import org.keyarc.agent.recovery.RecoveryBlob;
import org.keyarc.agent.recovery.RecoveryException;
import org.keyarc.agent.recovery.RecoveryStep;
import org.keyarc.ca.support.Texts;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenDescription;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.archive.RecoveryProgress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc recoverkey} (a recovery agent with its card; like KRT.EXE / {@code certutil -recoverkey}):
 * one agent's step on a recovery blob or on the partial file the previous agent wrote. The step that
 * reaches the threshold writes the PKCS#12.
 */
@Command(name = "recoverkey", mixinStandardHelpOptions = true, description = "Do this agent's step of a key "
    + "recovery with its card: writes the partial file for the next agent, or, at the last step, the PKCS#12.")
final class RecoverKeyCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "the recovery blobs from 'keyarc getkey', or "
      + "partial files: this card's step on each, in one pass")
  List<Path> inputs;

  @Option(names = "--merge", paramLabel = "P12", description = "put every key this pass recovers into this one "
      + "PKCS#12 (a user's keys in one file) instead of one file each")
  Path merge;

  @Mixin
  HsmOptions card;

  @Option(names = "--ca-cert", paramLabel = "FILE", description = "the CA certificates, checked out of band: "
      + "the one that signed the blob and, after a CA key rollover, the older keys' (GET /ca-certs.pem; default "
      + "$KEYARC_HOME/ca.crt)")
  Path caCert;

  @Option(names = "--next", paramLabel = "FILE", description = "where to write the partial file for the next agent "
      + "(default FILE.next)")
  Path next;

  @Option(names = "--out", paramLabel = "P12", description = "where to write the PKCS#12 at the last step "
      + "(default: the certificate's common name and serial, e.g. Ada_Lovelace-5f1c.p12)")
  Path out;

  @Option(names = "--password-file", paramLabel = "FILE", description = "the PKCS#12 password (else asked twice)")
  Path passwordFile;

  @Option(names = "--force", description = "overwrite existing output files")
  boolean force;

  @Option(names = "--ca-chain", paramLabel = "FILE", description = "the CA's chain above it (its /ca-chain.pem, "
      + "checked out of band), put into the PKCS#12; each certificate must have signed the one below")
  Path caChain;

  @Option(names = "--crl", paramLabel = "FILE", description = "the CA's current CRL (GET /crl; after a CA key "
      + "rollover also /crl/N; repeatable): an agent whose certificate it revokes may not do a step")
  List<Path> crls = List.of();

  @Option(names = "--allow-revoked-agent", description = "do the step although this card's agent certificate has "
      + "expired or is revoked (with a warning; the node refuses such an agent online)")
  boolean allowRevokedAgent;

  @Option(names = "--pfx-compat", paramLabel = "FORM", defaultValue = "modern", description = "modern (AES-256, "
      + "Windows 10 1709 / Server 2019 and later, the default) or legacy (TripleDES and SHA-1, weaker: for older "
      + "Windows, which reports the modern form as a wrong password)")
  String pfxCompat;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (inputs.size() > 1 && (next != null || out != null)) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--next and --out are for one FILE; with several, each "
          + "partial file is FILE.next and each PKCS#12 is named after its certificate (or all in --merge P12)");
    }
    if (merge != null) {
      CliFiles.checkWritable(merge, force);
    }
    Path caFile = caCert != null ? caCert : CliFiles.defaultCaCert();
    // every certificate of the CA in the file: after a rollover its keys under one name (GET /ca-certs.pem)
    List<X509CertificateHolder> cas = CliFiles.readCertificates(caFile);
    Pkcs12Writer.Compat form = compat(pfxCompat, spec.commandLine().getErr());
    List<org.bouncycastle.cert.X509CRLHolder> crlList = new java.util.ArrayList<>();
    for (Path f : crls) {
      crlList.add(CliFiles.readCrl(f));
    }
    // everything that needs no card is checked before the PIN: each file, what it will write (free to write), the
    // chain, one subject for --merge, and the password when a step may complete a recovery
    List<RecoveryBlob> blobs = new java.util.ArrayList<>();
    List<RecoveryProgress> progresses = new java.util.ArrayList<>();
    List<List<X509CertificateHolder>> chains = new java.util.ArrayList<>();
    boolean anyCompletes = false;
    for (Path input : inputs) {
      byte[] bytes = Files.readAllBytes(input);
      RecoveryProgress progress = RecoveryProgress.parse(bytes);
      RecoveryBlob blob;
      try {
        blob = RecoveryBlob.verify(progress == null ? bytes : progress.blob(), cas);
      } catch (RecoveryException e) {
        throw new RecoveryException(e.code(), input + ": " + e.getMessage());
      }
      blobs.add(blob);
      progresses.add(progress);
      X509CertificateHolder cert = blob.userCertificate();
      X509CertificateHolder ca = RecoveryBlob.issuerAmong(cert, cas);
      // an imported key of another CA's certificate gets no chain of this CA's
      List<X509CertificateHolder> chain = new java.util.ArrayList<>(blob.external() ? List.of() : List.of(ca));
      if (caChain != null && !blob.external()) {
        chain.addAll(RecoveryBlob.pinnedChain(ca, CliFiles.readCertificates(caChain)));
      }
      chains.add(chain);
      boolean completes = (progress == null ? 0 : progress.done().size()) + 1 >= blob.record().threshold();
      anyCompletes |= completes;
      CliFiles.checkWritable(completes ? (merge != null ? merge : out != null ? out : Path.of(fileName(cert)))
          : next != null ? next : Path.of(input + ".next"), force);
      if (merge != null && !cert.getSubject().equals(blobs.get(0).userCertificate().getSubject())) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--merge puts one user's keys in one file, but " + input
            + " is the key of " + Texts.printable(cert.getSubject().toString()) + ", not of "
            + Texts.printable(blobs.get(0).userCertificate().getSubject().toString()));
      }
      w.println("archive       key of " + Texts.printable(cert.getSubject().toString()) + " (serial "
          + blob.record().certificateSerial().toString(16) + "), " + blob.record().threshold() + " of "
          + blob.record().agents().size() + " agents; CA signature checked" + (inputs.size() > 1 ? " (" + input + ")"
          : ""));
      if (progress != null) {
        w.println("progress      " + progress.done().size() + " of " + blob.record().threshold() + " steps done");
      }
    }
    List<Pkcs12Writer.Entry> recovered = new java.util.ArrayList<>();
    // asked before the PIN when a step may complete a recovery (without a terminal or file, only when one does)
    char[] password = anyCompletes && (passwordFile != null || System.console() != null) ? password(passwordFile)
        : null;
    try (HsmModule m = card.load()) {
      TokenDescription d = m.find(card.selector());
      w.println("card          " + d.label() + " (serial " + d.serial() + ")");
      warnPin(d, spec.commandLine().getErr());
      try (HsmToken token = card.open(m, true)) {
        // the card's agents for every file, and their certificates, before any step
        List<java.util.Map<Integer, org.keyarc.hsm.KeyHandle>> onCards = new java.util.ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
          try {
            var onCard = RecoveryStep.agentsOn(blobs.get(i), token);
            checkStanding(blobs.get(i), onCard.keySet(), cas, crlList, allowRevokedAgent,
                spec.commandLine().getErr());
            onCards.add(onCard);
          } catch (RecoveryException e) {
            throw new RecoveryException(e.code(), inputs.get(i) + ": " + e.getMessage());
          }
        }
        for (int i = 0; i < inputs.size(); i++) {
          RecoveryBlob blob = blobs.get(i);
          RecoveryStep.Result r;
          try {
            r = RecoveryStep.run(blob, progresses.get(i), token, onCards.get(i));
          } catch (RecoveryException e) {
            throw new RecoveryException(e.code(), inputs.get(i) + ": " + e.getMessage()
                + (i > 0 ? " (the files before it are done)" : ""));
          }
          if (r instanceof RecoveryStep.Result.Partial p) {
            Path file = next != null ? next : Path.of(inputs.get(i) + ".next");
            CliFiles.write(file, p.progress().encoded(), false, force);
            w.println("step          done by " + p.agent());
            w.println("next          " + String.join(" or ", p.needed()) + " ("
                + (blob.record().threshold() - p.progress().done().size()) + " more step"
                + (blob.record().threshold() - p.progress().done().size() == 1 ? "" : "s") + ")");
            w.println("wrote         " + file + " (useless without the remaining agents' cards)");
            continue;
          }
          RecoveryStep.Result.Done done = (RecoveryStep.Result.Done) r;
          X509CertificateHolder cert = blob.userCertificate();
          Pkcs12Writer.Entry entry = new Pkcs12Writer.Entry(done.key(), cert, chains.get(i), friendlyName(cert));
          recovered.add(entry); // wiped in the finally below, whatever happens next
          w.println("step          done by " + done.agent() + " (the last one)");
          w.println("key           recovered and checked against certificate " + cert.getSerialNumber().toString(16));
          if (merge == null) {
            Path p12 = out != null ? out : Path.of(fileName(cert));
            if (password == null) {
              password = password(passwordFile);
            }
            CliFiles.write(p12, Pkcs12Writer.build(List.of(entry), password, form), true, force);
            w.println("wrote         " + p12 + describe(form));
          }
        }
      }
      if (merge != null && !recovered.isEmpty()) {
        if (password == null) {
          password = password(passwordFile);
        }
        CliFiles.write(merge, Pkcs12Writer.build(recovered, password, form), true, force);
        w.println("wrote         " + merge + " (" + recovered.size() + " key" + (recovered.size() == 1 ? "" : "s")
            + " in one file)" + describe(form));
      }
      return 0;
    } finally {
      for (Pkcs12Writer.Entry e : recovered) {
        e.key().close();
      }
      if (password != null) {
        Arrays.fill(password, '\0');
      }
    }
  }

  private static String describe(Pkcs12Writer.Compat form) {
    return form == Pkcs12Writer.Compat.LEGACY
        ? " (PKCS#12, legacy: TripleDES-SHA1, SHA-1 MAC; the CA chain; mode 0600)"
        : " (PKCS#12: PBES2 AES-256-CBC, PBKDF2-SHA-256, SHA-256 MAC; the CA chain; mode 0600)";
  }

  /**
   * The rule the node applies online, offline: an agent on this card whose certificate has expired or is revoked
   * (by a --crl) does no step, unless --allow-revoked-agent, which warns; without a CRL, a note that revocation was
   * not checked.
   */
  static void checkStanding(RecoveryBlob blob, java.util.Set<Integer> agents, List<X509CertificateHolder> cas,
      List<org.bouncycastle.cert.X509CRLHolder> loaded, boolean allowRevokedAgent, PrintWriter err) throws Exception {
    org.keyarc.agent.recovery.AgentStanding.Report report = org.keyarc.agent.recovery.AgentStanding.check(blob,
        agents, cas, loaded, java.time.Instant.now());
    if (!report.problems().isEmpty()) {
      if (!allowRevokedAgent) {
        throw new Keyarc.UserException(ErrorCode.CERT_REVOKED, report.problems().get(0) + ": this agent may not do "
            + "a recovery step (the node refuses it online); --allow-revoked-agent does it anyway, with a warning");
      }
      for (String p : report.problems()) {
        err.println("warning: " + p + "; doing the step anyway (--allow-revoked-agent)");
      }
    }
    if (!report.revocationChecked()) {
      err.println("note: this agent's certificate was not checked for revocation (offline); give --crl FILE, the "
          + "CA's /crl");
    }
  }

  /** The PKCS#12 form of {@code --pfx-compat}; the legacy form with a warning on {@code err}. */
  static Pkcs12Writer.Compat compat(String value, PrintWriter err) throws Keyarc.UserException {
    switch (value) {
      case "modern":
        return Pkcs12Writer.Compat.MODERN;
      case "legacy":
        err.println("warning: --pfx-compat legacy encrypts the key with TripleDES and SHA-1, weaker than the modern "
            + "form: give the file only to a system that opens nothing else, and keep its password strong");
        return Pkcs12Writer.Compat.LEGACY;
      default:
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--pfx-compat is modern or legacy, "
            + "not '" + value + "'");
    }
  }

  static void writePkcs12(RecoveredKey key, RecoveryBlob blob, X509CertificateHolder ca, Path p12, Path passwordFile,
      boolean force) throws Exception {
    writePkcs12(key, blob, ca, List.of(), p12, passwordFile, force, Pkcs12Writer.Compat.MODERN);
  }

  /**
   * Writes the recovered key with its certificate, the CA certificate and the CA's chain above it ({@code parents},
   * from a file the agent pinned; may be empty) as a PKCS#12 (mode 0600), the password from {@code passwordFile} or
   * asked twice; refuses an existing file unless {@code force}.
   */
  static void writePkcs12(RecoveredKey key, RecoveryBlob blob, X509CertificateHolder ca,
      List<X509CertificateHolder> parents, Path p12, Path passwordFile, boolean force, Pkcs12Writer.Compat compat)
      throws Exception {
    CliFiles.checkWritable(p12, force);
    X509CertificateHolder cert = blob.userCertificate();
    char[] password = password(passwordFile);
    try {
      List<X509CertificateHolder> chain = new java.util.ArrayList<>(blob.external() ? List.of() : List.of(ca));
      if (!blob.external()) {
        chain.addAll(parents); // an external parent's chain, as the agent pinned it
      }
      byte[] pfx = Pkcs12Writer.build(key, cert, chain, friendlyName(cert), password, compat);
      CliFiles.write(p12, pfx, true, force);
    } finally {
      Arrays.fill(password, '\0');
    }
  }

  /** PIN retries as the card reports them (PKCS#11 gives flags, not a count). */
  static void warnPin(TokenDescription d, PrintWriter err) {
    if (d.pinLocked()) {
      err.println("warning: card '" + d.label() + "' says its PIN is locked; the security "
          + "officer must unlock it (docs/recovery.md)");
    } else if (d.pinFinalTry()) {
      err.println("warning: card '" + d.label() + "': one more wrong PIN locks it");
    } else if (d.pinCountLow()) {
      err.println("warning: card '" + d.label() + "': a wrong PIN was entered since the "
          + "last good one; retries are running low");
    }
  }

  /** The PKCS#12 password: from {@code passwordFile}, else asked twice without echo (at least 8 characters). */
  static char[] password(Path passwordFile) throws Keyarc.UserException {
    if (passwordFile != null) {
      try {
        return PinSource.fromFile(passwordFile);
      } catch (IOException e) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read --password-file: " + e.getMessage());
      }
    }
    char[] a = PinSource.prompt("PKCS#12 password: ");
    char[] b = a == null ? null : PinSource.prompt("PKCS#12 password again: ");
    if (a == null || b == null) {
      throw new Keyarc.UserException(ErrorCode.PIN_REQUIRED, "no terminal to ask for the PKCS#12 password on; use "
          + "--password-file FILE");
    }
    try {
      if (!Arrays.equals(a, b)) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "the two passwords differ; nothing was written");
      }
      if (a.length < 8) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "use a PKCS#12 password of at least 8 characters");
      }
      return a;
    } finally {
      Arrays.fill(b, '\0');
    }
  }

  /**
   * The default file name of a recovered key: the certificate's common name, as a file name (letters, digits, '.',
   * '-' and '_'; anything else becomes '_'; not starting with '-', '.' or '_'; no Windows device name; at most 64
   * characters), a '-' and its serial in hex — a name the user
   * recognises (the seed's advice), unique per certificate. Only the serial without a usable common name.
   */
  static String fileName(X509CertificateHolder cert) {
    var cn = cert.getSubject().getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
    String name = cn.length == 0 ? "" : cn[0].getFirst().getValue().toString()
        .replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("_+", "_").replaceAll("^[._]+|_+$", "");
    name = name.replaceAll("^[-._]+", "");
    if (name.length() > 64) {
      name = name.substring(0, 64);
    }
    if (name.split("\\.", 2)[0].matches("(?i)CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]")) {
      name = "_" + name; // a Windows device name would not be a file there
    }
    String serial = cert.getSerialNumber().toString(16);
    return (name.isEmpty() ? "" : name + "-") + serial + ".p12";
  }

  private static String friendlyName(X509CertificateHolder cert) {
    var cn = cert.getSubject().getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
    return cn.length > 0 ? cn[0].getFirst().getValue().toString() + " (recovered)" : "recovered key";
  }

}
