package org.keyarc.hsm;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.keyarc.hsm.HsmException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.MechanismInfo;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * One open token: its mechanisms, its login, and a bounded pool of PKCS#11 sessions.
 *
 * <p>A PKCS#11 session must never be used by two threads at once (with SoftHSM2 that crashed the JVM),
 * so a session is lent to one thread at a time through {@link #session()} and comes back when the
 * {@link HsmSession} is closed. The pool opens sessions lazily up to its bound and then makes callers
 * wait (at most {@link #borrowTimeout()}), so any number of threads may share one token.
 *
 * <p>Login state in PKCS#11 belongs to the application, not to a session: the first session logs in
 * and every later session is logged in too. The pool keeps at least one session open, because closing
 * the last session of a token logs the application out. The PIN is not kept.
 */
public final class HsmToken implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HsmToken.class);

  private final HsmModule module;
  private final Token token;
  private final TokenDescription description;
  private final int maxSessions;
  private final BlockingQueue<Session> idle = new LinkedBlockingQueue<>();
  private final AtomicInteger sessionCount = new AtomicInteger();
  private final AtomicInteger lent = new AtomicInteger();
  private final Map<Long, MechanismInfo> mechanisms;
  private volatile Duration borrowTimeout = Duration.ofSeconds(30);
  private volatile boolean loggedIn;
  private volatile boolean closed;
  private Session anchor;

  HsmToken(HsmModule module, Token token, TokenDescription description, int maxSessions) throws HsmException {
    this.module = module;
    this.token = token;
    this.description = description;
    this.maxSessions = maxSessions;
    Map<Long, MechanismInfo> m = new TreeMap<>();
    for (long code : token.getMechanismList()) {
      MechanismInfo info = token.getMechanismInfo(code);
      if (info != null) {
        m.put(code, info);
      }
    }
    this.mechanisms = Collections.unmodifiableMap(m);
  }

  void start(char[] pin) throws HsmException {
    // The anchor session is never lent and never closed before the token: PKCS#11 logs the application
    // out when its last session on a token closes, so a pool session closed after a failure must never
    // be the last one (that would turn every private key handle invalid).
    anchor = openSession();
    if (pin != null) {
      try {
        anchor.login(PKCS11Constants.CKU_USER, pin);
        loggedIn = true;
      } catch (PKCS11Exception e) {
        if (e.getErrorCode() == PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
          loggedIn = true; // another user of this library in the process logged in already
        } else {
          closeQuietly(anchor);
          throw HsmException.of("C_Login", label(), e);
        }
      }
    }
    LOG.debug("opened token '{}' (serial {}, slot {}), logged in: {}", label(), description.serial(),
        description.slotId(), loggedIn);
  }

  public String label() {
    return description.label();
  }

  public String serial() {
    return description.serial();
  }

  /** What the token showed when it was opened (slot id, label, serial, PIN flags). */
  public TokenDescription description() {
    return description;
  }

  public HsmModule module() {
    return module;
  }

  public boolean loggedIn() {
    return loggedIn;
  }

  /** The mechanisms the token offers, by CKM code, with their key sizes and flags. */
  public Map<Long, MechanismInfo> mechanisms() {
    return mechanisms;
  }

  /** True when the token offers the mechanism for the purpose (a CKF_ flag such as CKF_WRAP). */
  public boolean supports(long mechanism, long flag) {
    MechanismInfo info = mechanisms.get(mechanism);
    return info != null && info.hasFlagBit(flag);
  }

  public int maxSessions() {
    return maxSessions;
  }

  /** The PIN kept for context-specific logins (a card's CLI process only); null: none is done. */
  private volatile char[] contextPin;

  /**
   * Keeps a copy of the PIN for the life of this token, so that a key with CKA_ALWAYS_AUTHENTICATE (a PIV key with
   * PIN policy "always") can be used: each of its operations needs C_Login(CKU_CONTEXT_SPECIFIC). For a card's
   * short-lived command, never for the CA node; wiped on {@link #close()}.
   */
  public void allowContextLogin(char[] pin) {
    char[] before = contextPin;
    this.contextPin = pin == null ? null : pin.clone();
    wipe(before);
  }

  char[] contextPin() {
    return contextPin;
  }

  private volatile boolean rawRsaOaep;
  private final java.util.concurrent.atomic.AtomicBoolean rawRsaOaepNoted = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Allows RSA-OAEP decryption as CKM_RSA_X_509 on the card with the OAEP decoding here, for a card without
   * CKM_RSA_PKCS_OAEP or without the hash an archive needs: an explicit choice of the agent's (--raw-rsa-oaep),
   * logged when first used.
   */
  public void allowRawRsaOaep(boolean allow) {
    this.rawRsaOaep = allow;
  }

  public boolean rawRsaOaep() {
    return rawRsaOaep;
  }

  void noteRawRsaOaep() {
    if (rawRsaOaepNoted.compareAndSet(false, true)) {
      LOG.warn("token '{}': RSA-OAEP decrypted as CKM_RSA_X_509 on the card and decoded in this process "
          + "(--raw-rsa-oaep): the padding check runs here, not on the card", label());
    }
  }

  /** A vendor's code for RFC 5649 key wrap, set by configuration; 0 when none is configured. */
  private volatile long configuredKwp;

  /**
   * Configures the mechanism code that means RFC 5649 (AES key wrap with padding) on this token, for an HSM that
   * has a vendor code for it; 0 for the choice of {@link #kwpMechanism()}.
   */
  public void kwpMechanism(long code) {
    this.configuredKwp = code;
  }

  /**
   * The mechanism that means RFC 5649 on this token: the configured vendor code; else CKM_AES_KEY_WRAP_KWP (0x210B,
   * the standard's code since PKCS#11 3.0) when offered for wrap and unwrap; else CKM_AES_KEY_WRAP_PAD (0x210A) only
   * on SoftHSM2, which means RFC 5649 by it (NSS means PKCS#7 padding and RFC 3394 by 0x210A); else 0: none.
   */
  public long kwpMechanism() {
    if (configuredKwp != 0) {
      return configuredKwp;
    }
    long chosen = standardKwp;
    if (chosen < 0) {
      // the mechanism list and the module are fixed while the token is open: chosen once, off the archival path
      // (the module's description is a C_GetInfo)
      chosen = standardKwp();
      standardKwp = chosen;
    }
    return chosen;
  }

  /** The token's own RFC 5649 mechanism, or -1 before {@link #kwpMechanism()} first chose it. */
  private volatile long standardKwp = -1;

  private long standardKwp() {
    long kwp = org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_KWP;
    long pad = org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_PAD;
    long wrap = org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_WRAP;
    long unwrap = org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_UNWRAP;
    if (supports(kwp, wrap) && supports(kwp, unwrap)) {
      return kwp;
    }
    if (supports(pad, wrap) && supports(pad, unwrap) && meansRfc5649ByPad()) {
      return pad;
    }
    return 0;
  }

  /** Modules known to implement RFC 5649 under CKM_AES_KEY_WRAP_PAD: SoftHSM2. */
  private boolean meansRfc5649ByPad() {
    return module.description().startsWith("SoftHSM") || description.manufacturer().startsWith("SoftHSM");
  }

  /** Sessions currently lent to callers. */
  public int sessionsInUse() {
    return lent.get();
  }

  public Duration borrowTimeout() {
    return borrowTimeout;
  }

  public void borrowTimeout(Duration timeout) {
    this.borrowTimeout = timeout;
  }

  /**
   * Lends a session to the calling thread until the returned object is closed; use it in
   * try-with-resources. Waits while all sessions are busy, at most {@link #borrowTimeout()}.
   */
  public HsmSession session() throws HsmException {
    if (closed) {
      throw new HsmException(Reason.TOKEN_NOT_PRESENT, "session", label(), "token '" + label() + "' is closed");
    }
    Session s = idle.poll();
    if (s == null && sessionCount.get() < maxSessions) {
      if (sessionCount.incrementAndGet() <= maxSessions) {
        try {
          s = openSession();
        } catch (HsmException e) {
          sessionCount.decrementAndGet();
          throw e;
        }
      } else {
        sessionCount.decrementAndGet();
      }
    }
    if (s == null) {
      try {
        s = idle.poll(borrowTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HsmException(Reason.SESSIONS_EXHAUSTED, "session", label(),
            "interrupted while waiting for a session of token '" + label() + "'");
      }
      if (s == null) {
        throw new HsmException(Reason.SESSIONS_EXHAUSTED, "session", label(), "all " + maxSessions
            + " sessions of token '" + label() + "' stayed busy for " + borrowTimeout.toMillis() + " ms");
      }
    }
    lent.incrementAndGet();
    return new HsmSession(this, s);
  }

  /** Runs one piece of work on a borrowed session. */
  public <T> T call(SessionWork<T> work) throws HsmException {
    try (HsmSession s = session()) {
      return work.run(s);
    }
  }

  /**
   * Runs {@code work} logged in as the token's security officer, then logs the user back in with the PIN kept by
   * {@link #allowContextLogin} (or leaves the token logged out when none was kept). For modules that make keys or
   * store objects only for the SO: ykcs11 takes the PIV management key (hex) as the SO PIN. A card's short-lived
   * command only: while it runs, the user's private objects are out of reach of other sessions of this process.
   */
  public synchronized <T> T asSecurityOfficer(char[] soPin, SessionWork<T> work) throws HsmException {
    if (loggedIn) {
      logout("C_Logout (before the SO login)");
      loggedIn = false;
    }
    try {
      anchor.login(PKCS11Constants.CKU_SO, soPin);
    } catch (PKCS11Exception e) {
      HsmException refused = HsmException.of("C_Login(CKU_SO)", label(), e);
      try {
        relogin();
      } catch (HsmException back) {
        refused.addSuppressed(back);
      }
      throw refused;
    }
    T result = null;
    Throwable failed = null;
    try {
      result = call(work);
    } catch (HsmException | RuntimeException | Error e) {
      failed = e;
    }
    // the SO must be logged out before anything else runs on this token, and the user back in; a failure here is
    // reported, after (and never instead of) the work's own
    HsmException after = null;
    try {
      logout("C_Logout(CKU_SO)");
    } catch (HsmException e) {
      after = e;
    }
    try { // the user back in even when the SO logout was refused (the user login then says whether the token is usable)
      relogin();
    } catch (HsmException e) {
      if (after == null) {
        after = e;
      } else {
        after.addSuppressed(e);
      }
    }
    if (failed != null) {
      if (after != null) {
        failed.addSuppressed(after);
      }
      if (failed instanceof HsmException h) {
        throw h;
      }
      if (failed instanceof RuntimeException r) {
        throw r;
      }
      throw (Error) failed;
    }
    if (after != null) {
      throw after;
    }
    return result;
  }

  /** C_Logout; a token nobody is logged in to is fine, any other refusal is an error naming {@code what}. */
  private void logout(String what) throws HsmException {
    try {
      anchor.logout();
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_NOT_LOGGED_IN) {
        throw HsmException.of(what, label(), e);
      }
    }
  }

  private void relogin() throws HsmException {
    char[] pin = contextPin;
    if (pin == null) {
      return;
    }
    try {
      anchor.login(PKCS11Constants.CKU_USER, pin);
      loggedIn = true;
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
        throw HsmException.of("C_Login", label(), e);
      }
      loggedIn = true;
    }
  }

  /** Work done on one session. */
  @FunctionalInterface
  public interface SessionWork<T> {
    T run(HsmSession session) throws HsmException;
  }

  void giveBack(Session s, boolean broken) {
    lent.decrementAndGet();
    if (broken || closed) {
      sessionCount.decrementAndGet();
      closeQuietly(s);
      return;
    }
    idle.add(s);
  }

  private Session openSession() throws HsmException {
    try {
      return token.openSession(true);
    } catch (PKCS11Exception e) {
      throw HsmException.of("C_OpenSession", label(), e);
    }
  }

  /** Closes every idle session; sessions still lent are closed when they come back. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    wipe(contextPin);
    contextPin = null;
    closeSessions();
    if (anchor != null) {
      closeQuietly(anchor);
    }
    module.tokenClosed(this);
  }

  void closeSessions() {
    Session s;
    while ((s = idle.poll()) != null) {
      sessionCount.decrementAndGet();
      closeQuietly(s);
    }
  }

  private void closeQuietly(Session s) {
    try {
      s.closeSession();
    } catch (PKCS11Exception e) {
      LOG.debug("closing a session of token '{}': {}", label(), HsmException.ckrName(e.getErrorCode()));
    }
  }

  /** The PIN array is the caller's; this wipes it. */
  public static void wipe(char[] pin) {
    if (pin != null) {
      Arrays.fill(pin, '\0');
    }
  }

  @Override
  public String toString() {
    return "token '" + label() + "' (serial " + serial() + ", " + sessionCount.get() + "/" + maxSessions
        + " sessions)";
  }
}
