/**
 * {@code keyarc bench}: the enrollment load generator ({@link org.keyarc.bench.load.BenchCommand}), a picocli
 * command line of its own that {@code ./keyarc bench ...} runs from this module's jar and {@code target/lib}.
 */
package org.keyarc.bench.load;
