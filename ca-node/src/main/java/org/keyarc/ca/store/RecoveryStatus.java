package org.keyarc.ca.store;

/** The state of an online recovery. */
public enum RecoveryStatus { OPEN, COMPLETED }
