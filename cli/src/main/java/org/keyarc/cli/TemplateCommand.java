package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc template list|show|duplicate|set|enable|disable|export|import}: the CA's templates, administered at runtime on
 * a running node (every node takes a change up within seconds, no restart). Changes are the administrator's;
 * managers and auditors may list and show.
 */
@Command(name = "template", description = "Certificate templates, changed at runtime (administrator); every change "
    + "is validated, versioned and audited.", mixinStandardHelpOptions = true)
final class TemplateCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "list", description = "Every template with its version and whether it is offered.")
  int list(@Mixin NodeOptions node) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_LIST));
    PrintWriter out = spec.commandLine().getOut();
    for (JsonNode t : r.path("templates")) {
      out.printf("%-24s version %-4d %-8s changed %s by %s%n", t.path("name").asText(), t.path("version").asInt(),
          t.path("enabled").asBoolean() ? "offered" : "disabled", t.path("updatedAt").asText(),
          t.path("updatedBy").asText());
    }
    return 0;
  }

  @Command(name = "show", description = "One template's definition (JSON, the form of the configuration's templates).")
  int show(@Mixin NodeOptions node, @Parameters(paramLabel = "NAME") String name) throws Exception {
    print(AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_SHOW).put(AdminFields.TEMPLATE, name)), true);
    return 0;
  }

  @Command(name = "duplicate", description = "A copy of SOURCE named NEW (version 1, offered); then change it with set.")
  int duplicate(@Mixin NodeOptions node, @Parameters(index = "0", paramLabel = "SOURCE") String source,
      @Parameters(index = "1", paramLabel = "NEW") String name) throws Exception {
    print(AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_DUPLICATE).put(AdminFields.TEMPLATE, source)
        .put(AdminFields.NAME, name)), false);
    return 0;
  }

  @Command(name = "set", description = "Change fields of a template: FIELD=VALUE ... (validityDays=30, "
      + "archivePrivateKey=true, keyUsage=keyEncipherment,digitalSignature, rsaMinBits=3072, requiresApproval=true, "
      + "...); its version goes up by one.")
  int set(@Mixin NodeOptions node, @Parameters(index = "0", paramLabel = "NAME") String name,
      @Parameters(index = "1..*", arity = "1..*", paramLabel = "FIELD=VALUE") List<String> settings) throws Exception {
    ObjectNode req = AdminCall.request(AdminOp.TEMPLATE_SET).put(AdminFields.TEMPLATE, name);
    ObjectNode s = req.putObject(AdminFields.SETTINGS);
    for (String kv : settings) {
      int eq = kv.indexOf('=');
      if (eq < 1) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "'" + kv + "' is not FIELD=VALUE");
      }
      s.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    print(AdminCall.call(node, req), false);
    return 0;
  }

  @Command(name = "enable", description = "Offer a template again.")
  int enable(@Mixin NodeOptions node, @Parameters(paramLabel = "NAME") String name) throws Exception {
    print(AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_ENABLE).put(AdminFields.TEMPLATE, name)), false);
    return 0;
  }

  @Command(name = "disable", description = "No longer offer a template (issued certificates stay valid).")
  int disable(@Mixin NodeOptions node, @Parameters(paramLabel = "NAME") String name) throws Exception {
    print(AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_DISABLE).put(AdminFields.TEMPLATE, name)), false);
    return 0;
  }

  @Command(name = "export", description = "Every template's definition to FILE (a JSON array; an existing file is kept "
      + "unless --force), to keep, review or import elsewhere.")
  int export(@Mixin NodeOptions node, @Parameters(paramLabel = "FILE") java.nio.file.Path file,
      @picocli.CommandLine.Option(names = "--force", description = "overwrite FILE") boolean force) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_EXPORT));
    com.fasterxml.jackson.databind.node.ArrayNode defs = AdminCall.JSON.createArrayNode();
    for (JsonNode t : r.path("templates")) {
      defs.add(t.path("definition"));
    }
    CliFiles.write(file, AdminCall.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(defs), false, force);
    spec.commandLine().getOut().println("wrote " + file + " (" + defs.size() + " templates)");
    return 0;
  }

  @Command(name = "import", description = "Definitions from FILE (what export writes): new templates are added, "
      + "existing ones replaced with their version raised; all checked first, so a bad file changes nothing.")
  int importFile(@Mixin NodeOptions node, @Parameters(paramLabel = "FILE") java.nio.file.Path file) throws Exception {
    JsonNode defs;
    try {
      defs = AdminCall.JSON.readTree(java.nio.file.Files.readAllBytes(file));
    } catch (java.io.IOException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read template definitions from " + file + ": "
          + e.getMessage());
    }
    if (!defs.isArray()) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, file + " is not a JSON array of template definitions");
    }
    ObjectNode req = AdminCall.request(AdminOp.TEMPLATE_IMPORT);
    req.set(AdminFields.TEMPLATES, defs);
    JsonNode r = AdminCall.call(node, req);
    for (JsonNode t : r.path("templates")) {
      spec.commandLine().getOut().println("imported      " + t.path("name").asText() + " version "
          + t.path("version").asInt());
    }
    return 0;
  }

  @Command(name = "reseal", description = "After the node found the store's templates changed outside the CA (error "
      + "67, audit template.tampered) and you checked them with export: seal them as they are, so the nodes take "
      + "them up.")
  int reseal(@Mixin NodeOptions node, @picocli.CommandLine.Option(names = "--note", required = true,
      paramLabel = "TEXT", description = "what you checked (audited)") String note) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.TEMPLATE_RESEAL).put(AdminFields.NOTE, note));
    spec.commandLine().getOut().println("sealed        " + r.path("sealed").asInt() + " templates as they are");
    return 0;
  }

  private void print(JsonNode r, boolean definition) throws Exception {
    JsonNode t = r.path("template");
    PrintWriter out = spec.commandLine().getOut();
    out.println("template      " + t.path("name").asText() + " version " + t.path("version").asInt() + " ("
        + (t.path("enabled").asBoolean() ? "offered" : "disabled") + ")");
    if (definition) {
      out.println(AdminCall.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(t.path("definition")));
    }
  }
}
