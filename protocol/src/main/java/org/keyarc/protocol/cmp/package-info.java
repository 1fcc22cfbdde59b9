/**
 * The CMP rules the client ({@link org.keyarc.protocol.client.CmpClient}) and the CA node share, written
 * once with Bouncy Castle's builders: the password-based MAC parameters and calculators ({@link
 * org.keyarc.protocol.cmp.CmpMac}, {@link org.keyarc.protocol.cmp.MacKind}), the header of a request or an
 * answer and its generalInfo ({@link org.keyarc.protocol.cmp.CmpHeaders}), the names of the body types
 * ({@link org.keyarc.protocol.cmp.CmpBodies}), and what the certificate that signs the node's answers must be
 * ({@link org.keyarc.protocol.cmp.ResponderCertificate}). A message that breaks them is refused with a {@link
 * org.keyarc.protocol.cmp.CmpProtectionException} carrying its {@link org.keyarc.protocol.ErrorCode}.
 */
package org.keyarc.protocol.cmp;
