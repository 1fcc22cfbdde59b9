/**
 * PKCS#11 access for keyarc: the one place that talks to HSMs and smartcards.
 *
 * <p>Entry point: {@link org.keyarc.hsm.HsmModule#load} loads a PKCS#11 library; {@link
 * org.keyarc.hsm.HsmModule#openToken} finds a token by label or serial, logs in and gives an
 * {@link org.keyarc.hsm.HsmToken} with a bounded session pool; {@link org.keyarc.hsm.HsmToken#session()}
 * lends one {@link org.keyarc.hsm.HsmSession} to one thread at a time.
 *
 * <p>Keys are {@link org.keyarc.hsm.KeyHandle}s: opaque references to objects inside a token. No method
 * of this package returns the bytes of a private or secret key. Signing for Bouncy Castle builders goes
 * through {@link org.keyarc.hsm.HsmSigners}, over the IAIK wrapper or the JDK's SunPKCS11 provider.
 *
 * <p>Every failure is an {@link org.keyarc.hsm.HsmException} that names the operation, the token and,
 * where PKCS#11 gave one, the CKR code by name and number.
 */
package org.keyarc.hsm;
