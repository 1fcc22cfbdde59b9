/**
 * TLS as keyarc's node and clients use it, written once: TLS 1.3 and TLS 1.2 with ECDHE key exchange and AEAD
 * ciphers only ({@link org.keyarc.protocol.tls.TlsPolicy}), the CA certificate as the clients' only trust anchor,
 * and endpoint identification (the node's certificate must name the host or IP address the client dialled).
 */
package org.keyarc.protocol.tls;
