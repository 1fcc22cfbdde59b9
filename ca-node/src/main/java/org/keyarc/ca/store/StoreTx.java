package org.keyarc.ca.store;

/** One unit of work: every store reached through it shares one transaction. */
public interface StoreTx {
  CertificateStore certificates();

  RequestStore requests();

  SecretStore secrets();

  RoleStore roles();

  ArchiveStore archives();

  AgentStore agents();

  RecoveryStore recoveries();

  CeremonyStore ceremonies();

  CrlStore crls();

  CaKeyStore caKeys();

  AuditStore audit();

  NonceStore nonces();

  TemplateStore templates();
}
