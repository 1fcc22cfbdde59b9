package org.keyarc.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.keyarc.agent.recovery.Pkcs12Reader;
import org.keyarc.agent.recovery.Pkcs12Writer;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyarc pfx merge}: the recovered PKCS#12 files of a user in one (ADCS's {@code certutil -mergepfx}). */
@Command(name = "pfx", description = "Work with recovered PKCS#12 files.", mixinStandardHelpOptions = true)
final class PfxCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "merge", mixinStandardHelpOptions = true, description = "Put the keys and certificates of several "
      + "PKCS#12 files into one (each key checked against its certificate; every CA certificate once).")
  int merge(@Parameters(paramLabel = "P12", arity = "2..*", description = "the files to merge") List<Path> inputs,
      @Option(names = "--out", required = true, paramLabel = "P12", description = "the merged file (mode 0600)")
          Path out,
      @Option(names = "--in-password-file", paramLabel = "FILE", description = "the password of the input files "
          + "(else the output's)") Path inPasswordFile,
      @Option(names = "--password-file", paramLabel = "FILE", description = "the merged file's password (else "
          + "asked twice)") Path passwordFile,
      @Option(names = "--pfx-compat", paramLabel = "FORM", defaultValue = "modern", description = "modern or legacy, "
          + "as for recoverkey") String pfxCompat,
      @Option(names = "--force", description = "overwrite --out") boolean force) throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    CliFiles.checkWritable(out, force);
    Pkcs12Writer.Compat form = RecoverKeyCommand.compat(pfxCompat, spec.commandLine().getErr());
    char[] password = RecoverKeyCommand.password(passwordFile);
    char[] inPassword = inPasswordFile == null ? password : RecoverKeyCommand.password(inPasswordFile);
    List<Pkcs12Writer.Entry> entries = new ArrayList<>();
    try {
      for (Path in : inputs) {
        try {
          entries.addAll(Pkcs12Reader.read(Files.readAllBytes(in), inPassword));
        } catch (org.keyarc.agent.recovery.RecoveryException e) {
          throw new Keyarc.UserException(ErrorCode.BAD_INPUT, in + ": " + e.getMessage());
        }
      }
      CliFiles.write(out, Pkcs12Writer.build(entries, password, form), true, force);
      for (Pkcs12Writer.Entry e : entries) {
        w.println("key           " + org.keyarc.ca.support.Texts.printable(e.friendlyName()) + " (certificate "
            + e.cert().getSerialNumber().toString(16) + ", " + org.keyarc.ca.support.Texts.printable(
                e.cert().getSubject().toString()) + ")");
      }
      w.println("wrote         " + out + " (" + entries.size() + " keys; mode 0600)");
      return 0;
    } finally {
      for (Pkcs12Writer.Entry e : entries) {
        e.key().close();
      }
      Arrays.fill(password, '\0');
      if (inPassword != password) {
        Arrays.fill(inPassword, '\0');
      }
    }
  }
}
