package org.keyarc.ca.store;

import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/**
 * Work done inside one unit of work. It may refuse with the domain exception ({@link CaException} with its
 * {@code ErrorCode}); the transaction then rolls back and the caller sees that same exception.
 */
@FunctionalInterface
public interface TxWork<T> {
  T run(StoreTx tx) throws CaException;
}
