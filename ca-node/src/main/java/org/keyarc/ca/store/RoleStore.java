package org.keyarc.ca.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Which identity holds which role. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface RoleStore {
  /** A row: subject, role, who granted it and when. */
  record Member(String subject, Role role, String grantedBy, Instant grantedAt) {}

  boolean grant(String subject, Role role, String by, Instant at) throws StoreException;

  boolean revoke(String subject, Role role) throws StoreException;

  Set<Role> rolesOf(String subject) throws StoreException;

  List<Member> list() throws StoreException;
}
