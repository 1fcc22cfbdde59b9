/**
 * Issuance: the protocol-neutral {@link org.keyarc.ca.issue.Enrollment} that CMP (and later EST or SCEP) calls,
 * the choice of template and subject ({@link org.keyarc.ca.issue.RequestPolicy}), the manager's approvals
 * ({@link org.keyarc.ca.issue.ApprovalService}), signing and storing ({@link org.keyarc.ca.issue.Issuer},
 * {@link org.keyarc.ca.issue.CertFactory}, {@link org.keyarc.ca.issue.SerialNumbers}).
 */
package org.keyarc.ca.issue;
