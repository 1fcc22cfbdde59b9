/**
 * The wire: error codes now; the CMP frame codec, message types and the enrollment client come with
 * the CA node issue. Every error a client or a CLI user sees is an {@link org.keyarc.protocol.ErrorCode}.
 */
package org.keyarc.protocol;
