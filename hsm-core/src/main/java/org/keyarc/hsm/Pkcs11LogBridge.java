package org.keyarc.hsm;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.StaticLogger;

/**
 * Routes the IAIK wrapper's log calls to SLF4J (logger {@code org.keyarc.hsm.pkcs11}) through
 * {@link Redaction}, so that no template value that could be key material reaches a log line.
 * The wrapper's INFO chatter (licence banner, C_Initialize flags) goes to DEBUG; its TRACE level, which
 * dumps whole objects, is never enabled.
 */
final class Pkcs11LogBridge implements org.xipki.pkcs11.wrapper.Logger {
  private static final Logger LOG = LoggerFactory.getLogger("org.keyarc.hsm.pkcs11");
  private static volatile boolean installed;

  static synchronized void install() {
    if (!installed) {
      StaticLogger.setLogger(new Pkcs11LogBridge());
      installed = true;
    }
  }

  @Override
  public void info(String format, Object... arguments) {
    LOG.debug(format, Redaction.safe(arguments));
  }

  @Override
  public void warn(String format, Object... arguments) {
    LOG.warn(format, Redaction.safe(arguments));
  }

  @Override
  public void error(String format, Object... arguments) {
    LOG.error(format, Redaction.safe(arguments));
  }

  @Override
  public void debug(String format, Object... arguments) {
    LOG.debug(format, Redaction.safe(arguments));
  }

  @Override
  public void trace(String format, Object... arguments) {
    // never: the wrapper's trace output dumps whole objects
  }

  @Override
  public boolean isDebugEnabled() {
    return LOG.isDebugEnabled();
  }

  @Override
  public boolean isInfoEnabled() {
    return LOG.isDebugEnabled();
  }

  @Override
  public boolean isWarnEnabled() {
    return LOG.isWarnEnabled();
  }

  @Override
  public boolean isTraceEnabled() {
    return false;
  }
}
