/**
 * keyarc's binary CMP transport: length-prefixed frames, each one DER PKIMessage plus a request id,
 * so that one connection carries many requests in flight. Byte layout in docs/protocol.md.
 */
package org.keyarc.protocol.frame;
