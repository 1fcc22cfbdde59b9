package org.keyarc.bench.load;

import org.bouncycastle.asn1.cmp.ErrorMsgContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.keyarc.protocol.KeyarcCmp;

/** The node's answer to a hostile message, in a few words: "error 31 (bad message)", or the body type. */
final class HostileAnswer {
  private HostileAnswer() {}

  static String describe(byte[] der) {
    PKIMessage m = PKIMessage.getInstance(der);
    if (m.getBody().getType() != PKIBody.TYPE_ERROR) {
      return "body " + m.getBody().getType() + " (" + der.length + " bytes)";
    }
    String text = KeyarcCmp.text(ErrorMsgContent.getInstance(m.getBody().getContent()).getPKIStatusInfo());
    var code = KeyarcCmp.codeOf(text);
    return code == null ? "error (no keyarc code)" : "error " + code.number() + " (" + code.name().toLowerCase()
        .replace('_', ' ') + ")";
  }
}
