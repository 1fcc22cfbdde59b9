package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.CertificateStore;
import org.keyarc.ca.store.CrlStore;
import org.keyarc.ca.store.NonceStore;
import org.keyarc.ca.store.RecoveryStore;
import org.keyarc.ca.store.RequestStore;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.SecretStore;
import org.keyarc.ca.store.StoreTx;

/** A unit of work on one JDBC connection: every store it hands out shares the connection's transaction. */
final class JdbcTx implements StoreTx {
  private final Connection c;
  private final AuditCursor audit;

  /**
   * {@code audit}: the transaction's view of the audit chain it appends to (one per transaction: the units of a
   * group commit share it); {@link #beforeCommit} writes its head.
   */
  JdbcTx(Connection c, AuditCursor audit) {
    this.c = c;
    this.audit = audit;
  }

  /** Writes what this transaction keeps in memory until the commit: the audit chain's head. */
  void beforeCommit() throws java.sql.SQLException {
    audit.flush(c);
  }

  /** The unit of work's connection (the store's own set-up). */
  Connection connection() {
    return c;
  }

  @Override
  public CertificateStore certificates() {
    return new JdbcCertificates(c);
  }

  @Override
  public RequestStore requests() {
    return new JdbcRequests(c);
  }

  @Override
  public SecretStore secrets() {
    return new JdbcSecrets(c);
  }

  @Override
  public RoleStore roles() {
    return new JdbcRoles(c);
  }

  @Override
  public ArchiveStore archives() {
    return new JdbcArchives(c);
  }

  @Override
  public AgentStore agents() {
    return new JdbcAgents(c);
  }

  @Override
  public RecoveryStore recoveries() {
    return new JdbcRecoveries(c);
  }

  @Override
  public org.keyarc.ca.store.CeremonyStore ceremonies() {
    return new JdbcCeremonies(c);
  }

  @Override
  public CrlStore crls() {
    return new JdbcCrls(c);
  }

  @Override
  public CaKeyStore caKeys() {
    return new JdbcCaKeys(c);
  }

  @Override
  public AuditStore audit() {
    return new JdbcAudit(c, audit);
  }

  @Override
  public NonceStore nonces() {
    return new JdbcNonces(c);
  }

  @Override
  public org.keyarc.ca.store.TemplateStore templates() {
    return new JdbcTemplates(c);
  }
}
