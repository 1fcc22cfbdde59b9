/** Revocation ({@link org.keyarc.ca.revoke.RevocationService}) and CRL publication ({@link org.keyarc.ca.revoke.CrlService}). */
package org.keyarc.ca.revoke;
