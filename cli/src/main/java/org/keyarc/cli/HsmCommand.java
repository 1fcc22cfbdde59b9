package org.keyarc.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmSession;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyAttributes;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.TokenDescription;
import org.xipki.pkcs11.wrapper.MechanismInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.*;

/** {@code keyarc hsm info|keys|mechanisms}: what the PKCS#11 module and a token hold and can do. */
@Command(name = "hsm", description = "Inspect the HSM and smartcards: tokens, keys, mechanisms.",
    mixinStandardHelpOptions = true)
final class HsmCommand {

  /** The mechanisms keyarc relies on, with the purpose it needs each for. */
  static final Object[][] NEEDED = {
      {CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, "RSA key generation"},
      {CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, "EC key generation"},
      {CKM_AES_KEY_GEN, CKF_GENERATE, "AES key generation"},
      {CKM_SHA256_RSA_PKCS, CKF_SIGN, "RSA PKCS#1 v1.5 signing"},
      {CKM_SHA256_RSA_PKCS_PSS, CKF_SIGN, "RSA-PSS signing"},
      {CKM_ECDSA, CKF_SIGN, "ECDSA signing"},
      {CKM_RSA_PKCS_OAEP, CKF_UNWRAP, "RSA-OAEP key unwrap (archival)"},
      {CKM_AES_KEY_WRAP_PAD, CKF_UNWRAP, "AES key wrap with padding (archival)"}};

  @Spec
  CommandSpec spec;

  @Command(name = "info", description = "Show the PKCS#11 module, its tokens, and the selected token's keys "
      + "and mechanisms. Logs in only when a PIN source is configured; then probes, step by step, what keyarc "
      + "needs and says whether the token can serve as the CA token and as a recovery agent's card.")
  int info(@Mixin HsmOptions hsm, @Option(names = "--role", paramLabel = "ROLE", description = "ca, archival or "
      + "card: only that role's needs and verdict (default: all). archival: a token of its own for the exchange keys "
      + "(hsm.archivalToken), beside a CA token that then only signs") String role) throws HsmException,
      Keyarc.UserException {
    if (role != null && !List.of("ca", "archival", "card").contains(role)) {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--role is ca, archival or card, not '"
          + role + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (HsmModule m = hsm.load()) {
      out.println("PKCS#11 module  " + m.library());
      out.println("                " + m.description());
      List<TokenDescription> tokens = m.tokens();
      long present = tokens.stream().filter(TokenDescription::present).count();
      out.println();
      out.println("Tokens (" + present + " present, " + (tokens.size() - present) + " empty slots)");
      for (TokenDescription t : tokens) {
        if (t.present()) {
          out.printf("  %-16s serial %-18s slot %-12d%s%n", t.label(), t.serial(), t.slotId(), pinFlags(t));
        }
      }
      try (HsmToken token = hsm.open(m, false)) {
        String label = token.label();
        String origin = hsm.pinOrigin(label);
        out.println();
        out.println("Token '" + label + "'" + (token.loggedIn() ? " (logged in, PIN from " + origin + ")"
            : " (not logged in: no PIN source; private keys are hidden)"));
        try (HsmSession s = token.session()) {
          printKeys(out, s, false);
          out.println();
          out.println("Mechanisms: " + token.mechanisms().size() + " offered (keyarc hsm mechanisms lists them); "
              + "keyarc needs:");
          for (Object[] n : NEEDED) {
            boolean ok = token.supports((Long) n[0], (Long) n[1]);
            out.printf("  %-26s %-40s %s%n", HsmSession.mechanismName((Long) n[0]), n[2], ok ? "yes" : "MISSING");
          }
          if (token.loggedIn()) {
            printProbe(out, s.probe(), role, token.kwpMechanism());
          } else {
            out.println();
            out.println("Log in (--pin-file, KEYARC_PIN) to probe what the token really does and get a verdict.");
          }
        }
      }
    }
    return 0;
  }

  /** The probe's steps, each on its own line, then each role's verdict with the settings to use. */
  static void printProbe(PrintWriter out, List<HsmSession.ProbeStep> steps, String role, long kwp) {
    out.println();
    out.println("RFC 5649 key wrap mechanism: " + (kwp == 0 ? "none known on this token (set hsm.kwpMechanism to "
        + "the vendor's code)" : HsmSession.mechanismName(kwp) + String.format(" (0x%X)", kwp)));
    out.println("Probed with throw-away keys (session objects; a token object, destroyed after, where the token makes "
        + "no session key pairs), each step on its own:");
    java.util.Map<String, Boolean> works = new java.util.HashMap<>();
    java.util.function.Predicate<String> ok = name -> works.getOrDefault(name, false); // not run: did not work
    for (HsmSession.ProbeStep st : steps) {
      works.put(st.name(), Boolean.TRUE.equals(st.works()));
      out.printf("  %-44s %s%n", st.name(), st.works() == null ? "not tried: " + st.detail()
          : st.works() ? "yes" : "no" + (st.detail().isBlank() ? "" : " (" + st.detail() + ")"));
    }
    String oaep = ok.test(HsmSession.ProbeStep.OAEP_SHA256_UNWRAP) ? "sha256"
        : ok.test(HsmSession.ProbeStep.OAEP_SHA1_UNWRAP) ? "sha1" : null;
    String cardOaep = ok.test(HsmSession.ProbeStep.OAEP_SHA256_DECRYPT) ? "sha256"
        : ok.test(HsmSession.ProbeStep.OAEP_SHA1_DECRYPT) ? "sha1" : null;
    // what the exchange keys need, on the CA token or on a token of their own (hsm.archivalToken)
    List<String> archivalMissing = new ArrayList<>();
    if (!ok.test(HsmSession.ProbeStep.RSA_PAIR)) {
      archivalMissing.add("RSA key-pair generation");
    }
    if (!ok.test(HsmSession.ProbeStep.AES_KEY)) {
      archivalMissing.add("AES key generation");
    }
    if (oaep == null) {
      archivalMissing.add("RSA-OAEP key unwrap");
    }
    if (!ok.test(HsmSession.ProbeStep.KWP_WRAP)) {
      archivalMissing.add("RFC 5649 key wrap of private keys");
    }
    String ecNote = "EC private keys do not unwrap on this token: it archives RSA keys only (archival of an EC key is "
        + "refused)";
    if (role == null || role.equals("ca")) {
      List<String> signingMissing = new ArrayList<>();
      // the CA key: RSA that signs (ca.keyType rsa*), or EC (p256, p384)
      if (!(ok.test(HsmSession.ProbeStep.RSA_SIGNING_PAIR) && ok.test(HsmSession.ProbeStep.RSA_SIGNING))
          && !ok.test(HsmSession.ProbeStep.EC_PAIR)) {
        signingMissing.add("a signing key pair (RSA that signs, or EC)");
      }
      if (!signingMissing.isEmpty()) {
        out.println("verdict (ca): this token cannot be the CA token: it lacks " + String.join(", ",
            signingMissing));
      } else if (archivalMissing.isEmpty()) {
        out.println("verdict (ca): this token can be the CA token, with the exchange keys on it; set ca.oaepHash: "
            + oaep + " (or leave it auto: the exchange certificate lists what the token unwraps with)");
        if (!ok.test(HsmSession.ProbeStep.KWP_WRAP_EC)) {
          out.println("note (ca): " + ecNote);
        }
      } else {
        out.println("verdict (ca): this token can be the CA token only beside an archival token (hsm.archivalToken, "
            + "one that 'hsm info --role archival' accepts): it lacks " + String.join(", ", archivalMissing));
      }
    }
    if (role == null || role.equals("archival")) {
      out.println(archivalMissing.isEmpty() ? "verdict (archival): this token can hold the exchange keys "
          + "(hsm.archivalToken, or the CA token itself); set ca.oaepHash: " + oaep + " (or leave it auto)"
          : "verdict (archival): this token cannot hold the exchange keys: it lacks " + String.join(", ",
          archivalMissing));
      if (archivalMissing.isEmpty() && !ok.test(HsmSession.ProbeStep.KWP_WRAP_EC)) {
        out.println("note (archival): " + ecNote);
      }
    }
    if (role == null || role.equals("card")) {
      List<String> missing = new ArrayList<>();
      if (!ok.test(HsmSession.ProbeStep.RSA_PAIR) && !ok.test(HsmSession.ProbeStep.RSA_TOKEN_PAIR)) {
        missing.add("RSA key-pair generation (or adopt a key made on the card)");
      }
      if (cardOaep == null) {
        missing.add("RSA-OAEP decryption");
      }
      if (!ok.test(HsmSession.ProbeStep.RSA_SIGNING)) {
        missing.add("RSA signing (for the agent's request)");
      }
      out.println(missing.isEmpty() ? "verdict (card): this token can be a recovery agent's card; the CA's "
          + "ca.oaepHash must be " + ("sha256".equals(cardOaep) ? "sha256 or sha1" : "sha1") + " (auto takes sha256 "
          + "only when the CA token and every agent's card do it)"
          : "verdict (card): this token cannot be a recovery agent's card: it lacks " + String.join(", ", missing));
      if (missing.isEmpty() && !ok.test(HsmSession.ProbeStep.SIGN_OFF)) {
        out.println("note (card): the agent key would go on signing after kra init-card turns CKA_SIGN off; keyarc "
            + "never asks it to, and init-card says so when it enrolls the card");
      }
    }
  }

  @Command(name = "keys", description = "List the keys on the selected token with their security attributes.")
  int keys(@Mixin HsmOptions hsm) throws HsmException, Keyarc.UserException {
    PrintWriter out = spec.commandLine().getOut();
    try (HsmModule m = hsm.load(); HsmToken token = hsm.open(m, true); HsmSession s = token.session()) {
      out.println("Token '" + token.label() + "' (serial " + token.serial() + ")");
      printKeys(out, s, true);
    }
    return 0;
  }

  @Command(name = "mechanisms", description = "List every mechanism of the selected token, with key sizes and "
      + "flags, and (when logged in) what a probe finds that the list does not say.")
  int mechanisms(@Mixin HsmOptions hsm) throws HsmException, Keyarc.UserException {
    PrintWriter out = spec.commandLine().getOut();
    try (HsmModule m = hsm.load(); HsmToken token = hsm.open(m, false)) {
      out.println("Token '" + token.label() + "': " + token.mechanisms().size() + " mechanisms");
      out.printf("  %-34s %-13s %s%n", "mechanism", "key size", "flags");
      for (Map.Entry<Long, MechanismInfo> e : token.mechanisms().entrySet()) {
        MechanismInfo i = e.getValue();
        out.printf("  %-34s %-13s %s%n", HsmSession.mechanismName(e.getKey()), i.getMinKeySize() + "-" + i.getMaxKeySize(), flags(i));
      }
      if (token.loggedIn()) {
        try (HsmSession s = token.session()) {
          printProbe(out, s.probe(), null, token.kwpMechanism());
        }
      } else {
        out.println();
        out.println("Log in (--pin-file, KEYARC_PIN) to probe RSA-OAEP hashes and key-wrap mechanisms.");
      }
    }
    return 0;
  }

  private static void printKeys(PrintWriter out, HsmSession s, boolean withAttributes) throws HsmException {
    List<KeyHandle> keys = s.listKeys();
    out.println("Keys (" + keys.size() + ")");
    if (keys.isEmpty()) {
      out.println("  (none)");
    }
    for (KeyHandle k : keys) {
      String attrs = "";
      if (withAttributes && k.keyClass() != KeyHandle.KeyClass.PUBLIC) {
        KeyAttributes a = s.attributes(k);
        attrs = "  " + (Boolean.TRUE.equals(a.sensitive()) ? "sensitive" : "NOT-SENSITIVE") + ", "
            + (Boolean.FALSE.equals(a.extractable()) ? "non-extractable" : "extractable")
            + (Boolean.TRUE.equals(a.sign()) ? ", sign" : "") + (Boolean.TRUE.equals(a.unwrap()) ? ", unwrap" : "")
            + (Boolean.TRUE.equals(a.decrypt()) ? ", decrypt" : "");
      }
      out.printf("  %-7s %-4s %-20s id %s%s%n", k.keyClass().name().toLowerCase(), k.keyType(), k.label(),
          k.idHex().isEmpty() ? "-" : k.idHex(), attrs);
    }
  }

  private static String pinFlags(TokenDescription t) {
    if (t.pinLocked()) {
      return "PIN LOCKED";
    }
    if (t.pinFinalTry()) {
      return "warning: next wrong PIN locks the token";
    }
    return t.pinCountLow() ? "warning: a wrong PIN was entered since the last login" : "";
  }

  private static String flags(MechanismInfo i) {
    StringBuilder sb = new StringBuilder();
    long[] bits = {CKF_GENERATE, CKF_GENERATE_KEY_PAIR, CKF_SIGN, CKF_VERIFY, CKF_ENCRYPT, CKF_DECRYPT, CKF_WRAP,
        CKF_UNWRAP, CKF_DERIVE, CKF_DIGEST};
    String[] names = {"generate", "generate-pair", "sign", "verify", "encrypt", "decrypt", "wrap", "unwrap",
        "derive", "digest"};
    for (int b = 0; b < bits.length; b++) {
      if (i.hasFlagBit(bits[b])) {
        sb.append(sb.length() == 0 ? "" : ",").append(names[b]);
      }
    }
    return sb.toString();
  }
}
