/**
 * Recording to the audit log: the actions ({@link org.keyarc.ca.audit.log.AuditAction}) and the append inside a
 * change's own unit of work ({@link org.keyarc.ca.audit.log.Audit}). Apart from {@code audit} (verification and
 * checkpoints, which check the caller's role) so that {@code auth}, like every other service, can record without
 * a package cycle: it imports only {@code store}.
 */
package org.keyarc.ca.audit.log;
