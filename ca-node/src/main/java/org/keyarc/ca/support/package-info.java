/**
 * Helpers below every service: hex and digests, DER, printable text, HSM calls mapped to error codes.
 * Nothing here imports a service package.
 */
package org.keyarc.ca.support;
