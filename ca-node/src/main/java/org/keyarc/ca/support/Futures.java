package org.keyarc.ca.support;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.keyarc.ca.CaException;

/**
 * The few helpers the asynchronous answer path needs ({@code Store.inGroupTransactionAsync} onwards): a CaException
 * through a future and back, unwrapped, so that a refusal stays the same refusal on either path.
 */
public final class Futures {
  private Futures() {}

  /** Work that may refuse with a CaException. */
  @FunctionalInterface
  public interface Call<T> {
    T call() throws CaException;
  }

  /** {@code work}'s result as a completed future, or its refusal (or failure) as a failed one. */
  public static <T> CompletableFuture<T> of(Call<T> work) {
    try {
      return CompletableFuture.completedFuture(work.call());
    } catch (CaException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Runs {@code work} inside a future's stage: its CaException travels as the stage's failure. */
  public static <T> T inStage(Call<T> work) {
    try {
      return work.call();
    } catch (CaException e) {
      throw new CompletionException(e);
    }
  }

  /** What a stage failed with, without the CompletionException around it. */
  public static Throwable cause(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** Waits for {@code f}; its CaException or RuntimeException is thrown as itself. */
  public static <T> T join(CompletableFuture<T> f) throws CaException {
    try {
      return f.join();
    } catch (CompletionException | java.util.concurrent.CancellationException e) {
      Throwable c = cause(e);
      if (c instanceof CaException k) {
        throw k;
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error er) {
        throw er;
      }
      throw new IllegalStateException(c);
    }
  }
}
