/**
 * JMH benchmarks of the HSM hot paths. Now: CA signing through the IAIK path. The benchmarks issue adds
 * the SunPKCS11 and software paths, wrap/unwrap, the archival chain and the load generator.
 */
package org.keyarc.bench;
