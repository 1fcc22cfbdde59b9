package org.keyarc.protocol.frame;

/**
 * One frame of keyarc's binary CMP transport: a request id chosen by the client (echoed in the answer,
 * so answers may come in any order) and one DER-encoded PKIMessage. See docs/protocol.md.
 */
public record CmpFrame(long requestId, byte[] message) {
  /** The protocol version this code speaks. */
  public static final int VERSION = 1;
  /** Frame type: a CMP PKIMessage. */
  public static final int TYPE_PKI_MESSAGE = 0;
  /** Bytes after the length field and before the message: version, type, flags, request id. */
  public static final int HEADER_LENGTH = 12;
  /** The default bound of the length field. */
  public static final int DEFAULT_MAX_FRAME = 1 << 20;

  @Override
  public String toString() {
    return "CmpFrame[id=" + Long.toUnsignedString(requestId) + ", " + message.length + " bytes]";
  }
}
