/**
 * Issuance: the protocol-neutral {@link org.keyarc.ca.issue.Enrollment} that CMP (and later EST or SCEP) calls,
 * the choice of template and subject ({@link org.keyarc.ca.issue.RequestPolicy}), the manager's approvals
 * ({@link org.keyarc.ca.issue.ApprovalService}), signing and storing ({@link org.keyarc.ca.issue.Issuer}, with
 * {@code keys/CertFactory} and {@code keys/SerialNumbers}, which CA initialisation and CRLs share).
 */
package org.keyarc.ca.issue;
