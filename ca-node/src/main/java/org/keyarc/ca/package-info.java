/**
 * The CA node. Now: certificate serial numbers (invariant 5). The CA node issue adds config, store,
 * templates, issuance, CRLs, roles, audit and the Netty server here.
 */
package org.keyarc.ca;
