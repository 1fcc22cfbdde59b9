/**
 * The CA node, by capability: {@code issue/} (enrollment, approvals, certificate building, serials),
 * {@code kra/} (recovery agents, archival, getkey, online recovery), {@code revoke/} (revocation, CRLs),
 * {@code auth/} (identities, roles, one-time secrets), {@code keys/} (the CA keyring, CA init, exchange keys),
 * {@code audit/} (the chain and its checkpoints), {@code template/}, {@code config/}, the protocol edges
 * {@code cmp/}, {@code admin/} and {@code net/}, the store behind interfaces in {@code store/} (JDBC in
 * {@code store/jdbc/}), helpers in {@code support/}, and {@code node/}, the one place that wires them. This
 * package holds only {@link org.keyarc.ca.CaException}, the exception every service throws. See
 * docs/architecture.md.
 */
package org.keyarc.ca;
