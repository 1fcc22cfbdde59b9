package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;

/** One administrative request to the node: JSON in a signature-protected genm, JSON back. */
final class AdminCall {
  static final ObjectMapper JSON = new ObjectMapper();

  private AdminCall() {}

  /** A request for {@code op}: add its fields with {@link AdminFields}. */
  static ObjectNode request(AdminOp op) {
    return JSON.createObjectNode().put(AdminFields.OP, op.wireName());
  }

  static JsonNode call(NodeOptions node, ObjectNode request) throws Keyarc.UserException, CmpClientException {
    try (CmpClient c = node.signedClient()) {
      String answer = c.admin(request.toString());
      try {
        return JSON.readTree(answer);
      } catch (IOException e) {
        throw new CmpClientException(ErrorCode.BAD_MESSAGE, "the node's answer is not JSON");
      }
    }
  }
}
