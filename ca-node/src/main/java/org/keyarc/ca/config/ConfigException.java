package org.keyarc.ca.config;

/** The configuration is missing, unreadable or invalid; the message names the file and the field. */
public class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
