package org.keyarc.protocol.frame;

import io.netty.handler.codec.CorruptedFrameException;
import org.keyarc.protocol.ErrorCode;

/**
 * A frame that breaks the binary transport's rules (bad version or type, length below the header,
 * over the limit, cut off). After it the connection is answered with an error and closed: the byte
 * stream can no longer be trusted to be in step.
 *
 * <p>It is not a {@link org.keyarc.protocol.KeyarcException}: Netty's pipeline recognises a framing
 * failure by its type ({@link CorruptedFrameException}, unchecked, raised from inside a decoder), and a
 * class cannot extend both that and keyarc's checked exception base. It carries its keyarc code through
 * {@link #code()} instead, so the server answers with the same code a {@code KeyarcException} would.
 */
public class CmpFrameException extends CorruptedFrameException {
  private static final long serialVersionUID = 1L;
  private final long requestId;
  private final boolean tooLarge;
  private final ErrorCode code;

  public CmpFrameException(String message, long requestId, boolean tooLarge) {
    this(message, requestId, tooLarge, tooLarge ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.BAD_MESSAGE);
  }

  /** A frame refused with {@code code}, for instance {@link ErrorCode#NODE_BUSY} when the frame budget is spent. */
  public CmpFrameException(String message, long requestId, boolean tooLarge, ErrorCode code) {
    super(message);
    this.requestId = requestId;
    this.tooLarge = tooLarge;
    this.code = code;
  }

  /** The request id if the header was read, else 0. */
  public long requestId() {
    return requestId;
  }

  /** True when the frame was refused for its size. */
  public boolean tooLarge() {
    return tooLarge;
  }

  /**
   * The code to answer with: {@link ErrorCode#MESSAGE_TOO_LARGE} when {@link #tooLarge()}, {@link
   * ErrorCode#BAD_MESSAGE} for a broken frame, or the code it was made with.
   */
  public ErrorCode code() {
    return code;
  }
}
