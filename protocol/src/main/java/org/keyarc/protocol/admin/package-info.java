/**
 * The administrative API as one contract between the CLI and the node: the operations ({@link
 * org.keyarc.protocol.admin.AdminOp}) and the request field names ({@link org.keyarc.protocol.admin.AdminFields})
 * of the JSON object {@code {"op": "...", ...}} that travels in a signature-protected genm under infoType
 * {@link org.keyarc.protocol.KeyarcCmp#ADMIN}. The wire strings never change once released.
 */
package org.keyarc.protocol.admin;
