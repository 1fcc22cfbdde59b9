/**
 * The tamper-evident audit log: the chain's rules ({@link org.keyarc.ca.audit.AuditChain}, no SQL), the
 * actions it records and appends inside a change's unit of work ({@code audit.log}: {@code AuditAction},
 * {@code Audit}, below {@code auth} so that every service can record), and checkpoints and verification
 * ({@link org.keyarc.ca.audit.AuditService}). The rows are kept by {@code store.AuditStore}.
 */
package org.keyarc.ca.audit;
