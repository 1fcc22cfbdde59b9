package org.keyarc.ca.config;

import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/** The configuration is missing, unreadable or invalid; the message names the file and the field. */
public class ConfigException extends CaException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(ErrorCode.CONFIG_INVALID, message);
  }
}
