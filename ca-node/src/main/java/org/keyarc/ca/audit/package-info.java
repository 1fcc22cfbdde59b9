/**
 * The tamper-evident audit log: the chain's rules ({@link org.keyarc.ca.audit.AuditChain}, no SQL), the
 * actions it records ({@link org.keyarc.ca.audit.AuditAction}), appends inside a change's unit of work
 * ({@link org.keyarc.ca.audit.Audit}), and checkpoints and verification
 * ({@link org.keyarc.ca.audit.AuditService}). The rows are kept by {@code store.AuditStore}.
 */
package org.keyarc.ca.audit;
