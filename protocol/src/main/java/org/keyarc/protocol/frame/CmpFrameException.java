package org.keyarc.protocol.frame;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * A frame that breaks the binary transport's rules (bad version or type, length below the header,
 * over the limit, cut off). After it the connection is answered with an error and closed: the byte
 * stream can no longer be trusted to be in step.
 */
public class CmpFrameException extends CorruptedFrameException {
  private static final long serialVersionUID = 1L;
  private final long requestId;
  private final boolean tooLarge;

  public CmpFrameException(String message, long requestId, boolean tooLarge) {
    super(message);
    this.requestId = requestId;
    this.tooLarge = tooLarge;
  }

  /** The request id if the header was read, else 0. */
  public long requestId() {
    return requestId;
  }

  /** True when the frame was refused for its size. */
  public boolean tooLarge() {
    return tooLarge;
  }
}
