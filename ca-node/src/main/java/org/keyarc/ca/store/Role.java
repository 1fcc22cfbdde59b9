package org.keyarc.ca.store;

/** The roles of the node. Enrollee is everyone with a valid request and is not stored. */
public enum Role {
  ADMINISTRATOR, MANAGER, AUDITOR, RECOVERY_AGENT;

  /** "recovery agent", for messages. */
  public String label() {
    return name().toLowerCase().replace('_', ' ');
  }
}
