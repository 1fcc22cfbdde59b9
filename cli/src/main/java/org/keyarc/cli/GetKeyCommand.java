package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Base64;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc getkey} (certificate manager, like {@code certutil -getkey}): fetch the CA-signed recovery
 * blob of an archived key. The blob holds ciphertext only; the agents' cards open it.
 */
@Command(name = "getkey", mixinStandardHelpOptions = true, description = "Fetch the recovery blob of an archived key "
    + "(certificate manager). Without --out, list what was found.")
final class GetKeyCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  NodeOptions node;

  /** How the archived key is found. */
  static final class By {
    @Option(names = "--serial", paramLabel = "HEX", description = "the certificate's serial")
    String serial;

    @Option(names = {"--subject", "--user"}, paramLabel = "DN", description = "every archived key of this subject "
        + "(a user's keys, for one ceremony: recoverkey FILE-* --merge)")
    String subject;

    @Option(names = {"--sha1", "--sha256"}, paramLabel = "HEX", description = "the certificate's hash")
    String hash;

    @Option(names = {"--email", "--upn"}, paramLabel = "NAME", description = "every archived key of the user whose "
        + "certificates carry this e-mail address or UPN")
    String user;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  By by;

  @Option(names = "--out", paramLabel = "FILE", description = "write the blob here (one per certificate: "
      + "FILE-SERIAL when several match)")
  Path out;

  @Option(names = "--force")
  boolean force;

  @Option(names = "--previous", description = "with --serial: the record an agent rotation replaced, kept until a "
      + "drill of the new one passes (for the old agents, if the new ones cannot open the new record)")
  boolean previous;

  @Override
  public Integer call() throws Exception {
    ObjectNode req = AdminCall.request(AdminOp.ARCHIVE_GETKEY);
    if (previous && by.serial == null) {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--previous needs --serial");
    }
    if (by.serial != null) {
      req.put(AdminFields.SERIAL, by.serial).put(AdminFields.PREVIOUS, previous);
    } else if (by.subject != null) {
      req.put(AdminFields.SUBJECT, by.subject);
    } else if (by.user != null) {
      req.put(AdminFields.USER_NAME, by.user);
    } else {
      req.put(AdminFields.CERT_HASH, by.hash);
    }
    JsonNode r = AdminCall.call(node, req);
    PrintWriter w = spec.commandLine().getOut();
    int n = r.path("blobs").size();
    for (JsonNode b : r.path("blobs")) {
      byte[] blob = Base64.getDecoder().decode(b.path("blob").asText());
      w.printf("archived key  serial %s  %s  %d of %d agents  %d bytes%n", b.path("serial").asText(),
          b.path("subject").asText(), b.path("threshold").asInt(), b.path("agents").asInt(), blob.length);
      if (out != null) {
        Path file = n == 1 ? out : Path.of(out + "-" + b.path("serial").asText());
        CliFiles.write(file, blob, false, force);
        w.println("wrote         " + file + " (CA-signed; the recovery agents' cards open it: keyarc recoverkey)");
      }
    }
    return 0;
  }
}
