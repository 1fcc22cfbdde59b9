package org.keyarc.hsm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.keyarc.hsm.HsmException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.ModuleInfo;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Slot;
import org.xipki.pkcs11.wrapper.Token;
import org.xipki.pkcs11.wrapper.TokenException;
import org.xipki.pkcs11.wrapper.TokenInfo;

/**
 * A loaded PKCS#11 library (through the IAIK wrapper): slot and token discovery, opening tokens, and
 * rescanning.
 *
 * <p>PKCS#11 state is per process and per library: C_Initialize, logins and C_Finalize are shared by
 * every user of the same library file in this JVM, including the JDK's SunPKCS11 provider. So:
 * <ul>
 *   <li>a second initialiser gets CKR_CRYPTOKI_ALREADY_INITIALIZED, which {@link #load} tolerates (and
 *       then {@link #close} leaves the library initialised for its other user);</li>
 *   <li>{@link #rescan} (C_Finalize + C_Initialize, the only way SoftHSM2 sees a token created after
 *       start-up) would break every other user of the same library, so code that must rescan loads
 *       {@link #loadPrivateCopy a private copy} of the library file, which the dynamic linker treats
 *       as an independent module.</li>
 * </ul>
 */
public final class HsmModule implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HsmModule.class);
  private static final AtomicInteger COPIES = new AtomicInteger();

  static {
    Pkcs11LogBridge.install();
  }

  private final Path library;
  private final Path loadedLibrary;
  private final PKCS11Module module;
  /** The C_Initialize reserved argument, or null for none (NSS softoken: "configdir='sql:DIR' ..."). */
  private final String initArgs;
  private final List<HsmToken> openTokens = new ArrayList<>();
  private boolean initializedByUs;
  private boolean closed;

  private HsmModule(Path library, Path loadedLibrary, String initArgs) throws HsmException {
    this.library = library;
    this.loadedLibrary = loadedLibrary;
    this.initArgs = initArgs == null || initArgs.isBlank() ? null : initArgs;
    if (!Files.isReadable(loadedLibrary)) {
      throw new HsmException(Reason.MODULE_LOAD_FAILED, "load", null,
          "PKCS#11 library " + loadedLibrary + " not found or not readable"
              + (loadedLibrary.toString().contains("softhsm") ? " (install the Debian package 'softhsm2')" : ""));
    }
    try {
      this.module = PKCS11Module.getInstance(loadedLibrary.toString());
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      throw new HsmException(Reason.MODULE_LOAD_FAILED, "load", null, -1,
          "cannot load PKCS#11 library " + loadedLibrary + ": " + e.getMessage(), e);
    }
    initialize();
  }

  /** Loads a PKCS#11 library; shares PKCS#11 state with every other user of that file in this JVM. */
  public static HsmModule load(Path library) throws HsmException {
    return new HsmModule(library, library, null);
  }

  /**
   * Loads a PKCS#11 library that needs arguments to C_Initialize: {@code initArgs} goes to
   * CK_C_INITIALIZE_ARGS.pReserved as a NUL-terminated string (NSS softoken reads its database folder from there:
   * {@code configdir='sql:/path' certPrefix='' keyPrefix='' secmod='secmod.db' flags=}); null or blank for none.
   */
  public static HsmModule load(Path library, String initArgs) throws HsmException {
    return new HsmModule(library, library, initArgs);
  }

  /**
   * Loads a private copy of the library (copied into {@code copyDir}): its C_Initialize, logins and
   * C_Finalize are independent of every other user of the original file, so it may {@link #rescan}.
   * Used by the card watcher and by tests, which create tokens after other modules started.
   */
  public static HsmModule loadPrivateCopy(Path library, Path copyDir) throws HsmException {
    Path copy;
    try {
      Files.createDirectories(copyDir);
      String name = library.getFileName().toString().replace(".so", "")
          + "-" + ProcessHandle.current().pid() + "-" + COPIES.incrementAndGet() + ".so";
      copy = copyDir.resolve(name);
      Files.copy(library, copy, StandardCopyOption.REPLACE_EXISTING);
      copy.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new HsmException(Reason.MODULE_LOAD_FAILED, "load", null, -1,
          "cannot copy PKCS#11 library " + library + " to " + copyDir + ": " + e.getMessage(), e);
    }
    return new HsmModule(library, copy, null);
  }

  private void initialize() throws HsmException {
    try {
      if (initArgs == null) {
        module.initialize();
      } else {
        iaik.pkcs.pkcs11.wrapper.CK_C_INITIALIZE_ARGS args = new iaik.pkcs.pkcs11.wrapper.CK_C_INITIALIZE_ARGS();
        args.flags |= PKCS11Constants.CKF_OS_LOCKING_OK;
        args.pReserved = (initArgs + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8); // a C string
        try {
          module.getPKCS11Module().C_Initialize(args, true);
        } catch (iaik.pkcs.pkcs11.wrapper.PKCS11Exception e) {
          throw module.convertException(e);
        }
      }
      initializedByUs = true;
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new HsmException(Reason.MODULE_LOAD_FAILED, "C_Initialize", null, e.getErrorCode(),
            "cannot initialise PKCS#11 library " + loadedLibrary + ": " + HsmException.ckrName(e.getErrorCode()), e);
      }
      LOG.debug("{} was already initialised in this process; sharing it", loadedLibrary);
      initializedByUs = false;
    }
  }

  /** The library as configured. */
  public Path library() {
    return library;
  }

  /** The file actually loaded: the library itself or its private copy. SunPKCS11 must load the same file. */
  public Path loadedLibrary() {
    return loadedLibrary;
  }

  /** "SoftHSM / Implementation of PKCS11 2.6 (cryptoki 2.40)". */
  public String description() {
    try {
      ModuleInfo info = module.getInfo();
      return info.getManufacturerID().strip() + " / " + info.getLibraryDescription().strip()
          + " " + info.getLibraryVersion() + " (cryptoki " + info.getCryptokiVersion() + ")";
    } catch (TokenException e) {
      return loadedLibrary.toString();
    }
  }

  /** Every slot of the module with what its token shows; absent tokens are listed as not present. */
  public synchronized List<TokenDescription> tokens() throws HsmException {
    checkOpen();
    List<TokenDescription> result = new ArrayList<>();
    for (Slot slot : slots()) {
      result.add(describe(slot));
    }
    return result;
  }

  /** The present token the selector names, or TOKEN_NOT_PRESENT. */
  public synchronized TokenDescription find(TokenSelector selector) throws HsmException {
    return findSlot(selector).description;
  }

  /**
   * Opens a token: a session pool of at most {@code maxSessions} sessions and, when {@code pin} is not
   * null, a user login (the PIN array is not kept; wipe it after this call).
   */
  public synchronized HsmToken openToken(TokenSelector selector, char[] pin, int maxSessions)
      throws HsmException {
    checkOpen();
    if (maxSessions < 1) {
      throw new IllegalArgumentException("maxSessions must be at least 1, got " + maxSessions);
    }
    Found found = findSlot(selector);
    HsmToken token = new HsmToken(this, found.token, found.description, maxSessions);
    try {
      token.start(pin);
    } catch (HsmException | RuntimeException e) {
      token.closeSessions();
      throw e;
    }
    openTokens.add(token);
    return token;
  }

  /**
   * C_Finalize and C_Initialize again, so that tokens created or removed since start-up show up
   * (SoftHSM2 does not report slot events). Refused while tokens are open, and on a module shared
   * with another user of the same library (load a {@link #loadPrivateCopy private copy} instead).
   */
  public synchronized void rescan() throws HsmException {
    checkOpen();
    if (!openTokens.isEmpty()) {
      throw new HsmException(Reason.MODULE_BUSY, "rescan", null,
          "cannot rescan " + loadedLibrary + " while " + openTokens.size() + " token(s) are open; close them first");
    }
    if (!initializedByUs) {
      throw new HsmException(Reason.MODULE_BUSY, "rescan", null,
          "cannot rescan " + loadedLibrary + ": another user in this process initialised it; load a private copy");
    }
    try {
      module.finalize(null);
    } catch (PKCS11Exception e) {
      throw new HsmException(Reason.DEVICE_ERROR, "C_Finalize", null, e.getErrorCode(),
          "C_Finalize failed: " + HsmException.ckrName(e.getErrorCode()), e);
    }
    initialize();
  }

  synchronized void tokenClosed(HsmToken token) {
    openTokens.remove(token);
  }

  /** Closes open tokens and, if this module initialised the library, finalises it. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    for (HsmToken token : new ArrayList<>(openTokens)) {
      token.close();
    }
    closed = true;
    if (initializedByUs) {
      try {
        module.finalize(null);
      } catch (PKCS11Exception e) {
        LOG.warn("C_Finalize of {} failed: {}", loadedLibrary, HsmException.ckrName(e.getErrorCode()));
      }
    }
  }

  @Override
  public String toString() {
    return "HsmModule[" + loadedLibrary + "]";
  }

  private record Found(Token token, TokenDescription description) {}

  /**
   * The one present token {@code selector} names. Several tokens with the label asked for (every OpenSC PIV card
   * is labelled PIV_II) are refused, never one picked: the error lists their serials to choose from.
   */
  private Found findSlot(TokenSelector selector) throws HsmException {
    checkOpen();
    Found found = null;
    List<String> serials = new ArrayList<>();
    for (Slot slot : slots()) {
      TokenDescription d = describe(slot);
      if (d.present() && selector.matches(d)) {
        if (found == null) {
          found = new Found(slot.getToken(), d);
        }
        serials.add(d.serial());
      }
    }
    if (found == null) {
      throw new HsmException(Reason.TOKEN_NOT_PRESENT, "find token", selector.toString(),
          "token '" + selector + "' is not present");
    }
    if (serials.size() > 1) {
      throw new HsmException(Reason.BAD_INPUT, "find token", selector.toString(), serials.size() + " tokens are "
          + "labelled '" + selector + "' (serials " + String.join(", ", serials) + "): name one as pkcs11:token="
          + found.description().label() + ";serial=SERIAL");
    }
    return found;
  }

  private Slot[] slots() throws HsmException {
    try {
      return module.getSlotList(false);
    } catch (PKCS11Exception e) {
      throw HsmException.of("C_GetSlotList", null, e);
    }
  }

  private static TokenDescription describe(Slot slot) {
    try {
      if (!slot.getSlotInfo().isTokenPresent()) {
        return TokenDescription.absent(slot.getSlotID());
      }
      TokenInfo info = slot.getToken().getTokenInfo();
      if (!info.isTokenInitialized()) {
        return TokenDescription.absent(slot.getSlotID());
      }
      long flags = info.getFlags();
      return new TokenDescription(slot.getSlotID(), info.getLabel().strip(), info.getSerialNumber().strip(),
          info.getManufacturerID().strip(), info.getModel().strip(), true, info.isLoginRequired(),
          (flags & PKCS11Constants.CKF_USER_PIN_COUNT_LOW) != 0,
          (flags & PKCS11Constants.CKF_USER_PIN_FINAL_TRY) != 0,
          (flags & PKCS11Constants.CKF_USER_PIN_LOCKED) != 0);
    } catch (PKCS11Exception e) {
      // SoftHSM2 answers CKR_GENERAL_ERROR for a token whose folder went away: the card is gone.
      LOG.debug("slot {} does not answer: {}", slot.getSlotID(), HsmException.ckrName(e.getErrorCode()));
      return TokenDescription.absent(slot.getSlotID());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("module " + loadedLibrary + " is closed");
    }
  }
}
