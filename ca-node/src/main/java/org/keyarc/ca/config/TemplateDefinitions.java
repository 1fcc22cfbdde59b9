package org.keyarc.ca.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.template.SanPolicy;
import org.keyarc.ca.template.SanType;
import org.keyarc.ca.template.Template;

/**
 * Templates as data: the definition of a template is its configuration form ({@link NodeConfig.TemplateCfg}) as
 * JSON, the form the store keeps and {@code template show|export} print. A definition becomes a {@link Template}
 * only through the configuration's own validation, so a runtime change is refused with the same error, naming the
 * field, as a wrong YAML file.
 */
public final class TemplateDefinitions {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  private static final String[] KEY_USAGES = {"digitalSignature", "nonRepudiation", "keyEncipherment",
      "dataEncipherment", "keyAgreement"};
  private static final int[] KEY_USAGE_BITS = {KeyUsage.digitalSignature, KeyUsage.nonRepudiation,
      KeyUsage.keyEncipherment, KeyUsage.dataEncipherment, KeyUsage.keyAgreement};

  private TemplateDefinitions() {}

  /** The definition of {@code t} (a built-in template, or one read from the configuration). */
  public static NodeConfig.TemplateCfg of(Template t) {
    NodeConfig.TemplateCfg c = new NodeConfig.TemplateCfg();
    c.name = t.name();
    c.validityDays = (int) t.validity().toDays();
    List<String> ku = new ArrayList<>();
    for (int i = 0; i < KEY_USAGES.length; i++) {
      if ((t.keyUsage() & KEY_USAGE_BITS[i]) != 0) {
        ku.add(KEY_USAGES[i]);
      }
    }
    c.keyUsage = ku;
    c.extendedKeyUsage = t.extendedKeyUsages().stream().map(ASN1ObjectIdentifier::getId).toList();
    c.rsaMinBits = t.rsaMinBits();
    c.ecCurves = t.ecCurves().stream().map(o -> ECNamedCurveTable.getName(o) != null ? ECNamedCurveTable.getName(o)
        : o.getId()).sorted().toList();
    c.requiredRdns = t.requiredRdns().stream().sorted().toList();
    c.allowedRdns = t.allowedRdns().stream().sorted().toList();
    c.requiresApproval = t.requiresApproval();
    c.archivePrivateKey = t.archivePrivateKey();
    c.centralKeygen = t.centralKeygen();
    NodeConfig.EnrollCfg e = new NodeConfig.EnrollCfg();
    e.secret = t.enrollers().secret();
    e.secretCreators = t.enrollers().secretCreators().stream().map(TemplateDefinitions::role).sorted().toList();
    e.roles = t.enrollers().roles().stream().map(TemplateDefinitions::role).sorted().toList();
    e.holdersOf = t.enrollers().holdersOf().stream().sorted().toList();
    c.enroll = e;
    Map<String, NodeConfig.SanCfg> sans = new LinkedHashMap<>();
    for (Map.Entry<SanType, SanPolicy.Rule> r : t.subjectAltNames().rules().entrySet()) {
      NodeConfig.SanCfg s = new NodeConfig.SanCfg();
      s.from = r.getValue().from().name().toLowerCase(Locale.ROOT);
      s.suffixes = r.getValue().suffixes();
      s.required = r.getValue().required();
      sans.put(r.getKey().configName(), s);
    }
    c.subjectAltNames = sans;
    c.certificatePolicies = t.certificatePolicies().stream().map(ASN1ObjectIdentifier::getId).toList();
    c.cpsUri = t.cpsUri();
    c.renewalWindowDays = (int) t.renewalWindow().toDays();
    c.approvals = t.approvals();
    if (t.subordinate() != null) {
      org.keyarc.ca.template.Subordination sub = t.subordinate();
      NodeConfig.SubordinateCaCfg sc = new NodeConfig.SubordinateCaCfg();
      sc.pathLen = sub.pathLen();
      sc.permitted = sub.permitted();
      sc.excluded = sub.excluded();
      sc.policyMappings = sub.policyMappings();
      sc.requireExplicitPolicy = sub.requireExplicitPolicy();
      sc.inhibitPolicyMapping = sub.inhibitPolicyMapping();
      sc.inhibitAnyPolicy = sub.inhibitAnyPolicy();
      c.subordinateCa = sc;
    }
    return c;
  }

  private static String role(Role r) {
    return r.name().toLowerCase(Locale.ROOT);
  }

  /** The definition as canonical JSON. */
  public static String json(NodeConfig.TemplateCfg c) {
    try {
      return JSON.writeValueAsString(c);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A stored definition. */
  public static NodeConfig.TemplateCfg parse(String json) throws ConfigException {
    try {
      return JSON.readValue(json, NodeConfig.TemplateCfg.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ConfigException("template definition: " + e.getOriginalMessage());
    }
  }

  /**
   * Validates {@code all} together (a template's {@code enroll.holdersOf} may name another of them) and returns
   * them as templates, in order; the error names the template and the field.
   */
  public static List<Template> validate(List<NodeConfig.TemplateCfg> all) throws ConfigException {
    NodeConfig holder = new NodeConfig();
    holder.templates = new ArrayList<>(all);
    holder.source = "template definitions";
    holder.validateTemplates();
    return holder.configuredTemplates();
  }

  /**
   * {@code c} with {@code settings} applied (field name to text: "true", "30", "a,b" for lists), for
   * {@code template set}. An unknown field, or a value of the wrong kind, is refused naming the field.
   */
  public static NodeConfig.TemplateCfg set(NodeConfig.TemplateCfg c, Map<String, String> settings)
      throws ConfigException {
    ObjectNode tree = JSON.valueToTree(c);
    for (Map.Entry<String, String> s : settings.entrySet()) {
      String field = s.getKey();
      if (field.equals("name")) {
        throw new ConfigException("field 'name' cannot be set (duplicate the template under a new name)");
      }
      JsonNode old = tree.get(field);
      if (field.equals("subordinateCa") || field.equals("enroll") || field.equals("subjectAltNames")) {
        throw new ConfigException("field '" + field + "' is a section: change it in the definition (template export, "
            + "edit, template import)");
      }
      if (old == null || old.isObject()) {
        throw new ConfigException("field '" + field + "' is not a template setting (settings: validityDays, keyUsage, "
            + "extendedKeyUsage, rsaMinBits, ecCurves, requiredRdns, allowedRdns, requiresApproval, "
            + "archivePrivateKey, centralKeygen, certificatePolicies, cpsUri, renewalWindowDays, approvals)");
      }
      String v = s.getValue().trim();
      if (old.isBoolean()) {
        if (!v.equals("true") && !v.equals("false")) {
          throw new ConfigException("field '" + field + "' takes true or false, not '" + v + "'");
        }
        tree.put(field, Boolean.parseBoolean(v));
      } else if (old.isInt()) {
        try {
          tree.put(field, Integer.parseInt(v));
        } catch (NumberFormatException e) {
          throw new ConfigException("field '" + field + "' takes a whole number, not '" + v + "'");
        }
      } else if (old.isArray()) {
        ArrayNode a = tree.putArray(field);
        for (String part : v.split(",")) {
          if (!part.isBlank()) {
            a.add(part.trim());
          }
        }
      } else {
        tree.put(field, v);
      }
    }
    try {
      return JSON.treeToValue(tree, NodeConfig.TemplateCfg.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ConfigException("template settings: " + e.getOriginalMessage());
    }
  }
}
