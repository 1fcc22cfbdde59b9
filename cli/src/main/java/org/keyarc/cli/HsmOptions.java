package org.keyarc.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.PinSource;
import org.keyarc.hsm.TokenSelector;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Option;

/**
 * Where the HSM is and how to log in: shared by every command that opens a token. PINs come from
 * {@code --pin-file}, the environment variable named by {@code --pin-env} (default KEYARC_PIN), the
 * PIN folder of the embedded SoftHSM2 setup ({@code $KEYARC_PIN_DIR/LABEL.pin}, which {@code ./keyarc}
 * sets), or a prompt without echo. Never from the command line. Public for the commands of the modules above
 * (keyarc bench).
 */
public final class HsmOptions {
  static final String DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

  @Option(names = "--module", paramLabel = "PATH",
      description = "PKCS#11 library (default: $KEYARC_PKCS11_MODULE, else " + DEFAULT_MODULE + ")")
  Path module;

  @Option(names = "--init-args", paramLabel = "ARGS", description = "arguments to the module's C_Initialize "
      + "(pReserved), for modules that need them such as NSS softoken: \"configdir='sql:DIR' certPrefix='' "
      + "keyPrefix='' secmod='secmod.db' flags=\" (default: $KEYARC_PKCS11_INIT_ARGS, else none)")
  String initArgs;

  @Option(names = "--raw-rsa-oaep", description = "for a card without RSA-OAEP, or without the hash an archive "
      + "needs: decrypt with raw RSA (CKM_RSA_X_509) on the card and remove the OAEP padding here (logged; the "
      + "padding check then runs in this process, not on the card)")
  boolean rawRsaOaep;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "token label or PKCS#11 URI such as pkcs11:token=kra-1 (default: $KEYARC_TOKEN, else keyarc-ca)")
  String token;

  @Option(names = "--pin-file", paramLabel = "FILE", description = "read the user PIN from the first line of FILE")
  Path pinFile;

  @Option(names = "--pin-env", paramLabel = "VAR", description = "read the user PIN from environment variable VAR "
      + "(default KEYARC_PIN)")
  String pinEnv;

  @Option(names = "--so-pin-file", paramLabel = "FILE", description = "read the security officer's PIN from the "
      + "first line of FILE, for cards whose module makes keys or stores certificates only for the SO (ykcs11: the "
      + "PIV management key, 48 hex digits); default: $KEYARC_SO_PIN")
  Path soPinFile;

  Path modulePath() {
    if (module != null) {
      return module;
    }
    String env = System.getenv("KEYARC_PKCS11_MODULE");
    return Path.of(env != null && !env.isBlank() ? env : DEFAULT_MODULE);
  }

  TokenSelector selector() {
    String t = token;
    if (t == null) {
      String env = System.getenv("KEYARC_TOKEN");
      t = env != null && !env.isBlank() ? env : "keyarc-ca";
    }
    return TokenSelector.parse(t);
  }

  public HsmModule load() throws HsmException {
    String args = initArgs != null ? initArgs : System.getenv("KEYARC_PKCS11_INIT_ARGS");
    return HsmModule.load(modulePath(), args);
  }

  /** Where the PIN came from, for the output ("--pin-file /x"); null when there is none. */
  String pinOrigin(String label) {
    if (pinFile != null) {
      return "--pin-file " + pinFile;
    }
    String var = pinEnv != null ? pinEnv : "KEYARC_PIN";
    if (System.getenv(var) != null) {
      return "$" + var;
    }
    Path dirFile = pinDirFile(label);
    return dirFile != null ? dirFile.toString() : null;
  }

  /**
   * The PIN, or null when no source is configured and {@code prompt} is false. The caller wipes it.
   */
  char[] pin(String label, boolean prompt) throws Keyarc.UserException {
    try {
      if (pinFile != null) {
        return PinSource.fromFile(pinFile);
      }
      char[] env = PinSource.fromEnv(pinEnv != null ? pinEnv : "KEYARC_PIN");
      if (env != null) {
        return env;
      }
      if (pinEnv != null) {
        throw new Keyarc.UserException(ErrorCode.PIN_REQUIRED, "environment variable " + pinEnv + " is not set");
      }
      Path dirFile = pinDirFile(label);
      if (dirFile != null) {
        return PinSource.fromFile(dirFile);
      }
    } catch (IOException e) {
      throw new Keyarc.UserException(ErrorCode.PIN_REQUIRED, "cannot read the PIN: " + e.getMessage());
    }
    if (!prompt) {
      return null;
    }
    char[] typed = PinSource.prompt("PIN for token '" + label + "': ");
    if (typed == null) {
      throw new Keyarc.UserException(ErrorCode.PIN_REQUIRED, "token '" + label
          + "' needs a PIN and there is no terminal to ask on; use --pin-file FILE or the KEYARC_PIN variable");
    }
    return typed;
  }

  /** The SO PIN from --so-pin-file or $KEYARC_SO_PIN; null when neither is given. The caller wipes it. */
  char[] soPin() throws Keyarc.UserException {
    try {
      if (soPinFile != null) {
        return PinSource.fromFile(soPinFile);
      }
      return PinSource.fromEnv("KEYARC_SO_PIN");
    } catch (IOException e) {
      throw new Keyarc.UserException(ErrorCode.PIN_REQUIRED, "cannot read the SO PIN: " + e.getMessage());
    }
  }

  private static Path pinDirFile(String label) {
    String dir = System.getenv("KEYARC_PIN_DIR");
    if (dir == null || dir.isBlank()) {
      return null;
    }
    Path f = Path.of(dir, label + ".pin");
    return Files.isReadable(f) ? f : null;
  }

  /** Opens the selected token, logged in when a PIN is available (or asked for, when {@code prompt}). */
  public HsmToken open(HsmModule m, boolean prompt) throws HsmException, Keyarc.UserException {
    String label = m.find(selector()).label();
    char[] pin = pin(label, prompt);
    try {
      HsmToken token = m.openToken(selector(), pin, 1);
      token.allowContextLogin(pin); // a PIV key with PIN policy "always" asks for it at each use
      token.allowRawRsaOaep(rawRsaOaep);
      return token;
    } finally {
      HsmToken.wipe(pin);
    }
  }
}
