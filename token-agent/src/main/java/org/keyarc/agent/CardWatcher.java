package org.keyarc.agent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.TokenDescription;

/**
 * Notices smartcards being inserted and removed by polling. SoftHSM2 (and some real modules) report no
 * slot events and see a token only at C_Initialize, so each {@link #poll()} rescans the module
 * (C_Finalize + C_Initialize) and compares the present tokens, by serial, with the previous poll.
 * The module must be a private instance ({@link HsmModule#loadPrivateCopy}) with no token open.
 */
public final class CardWatcher {

  /** A card arrived or left. */
  public record CardEvent(Kind kind, TokenDescription card) {
    /** What happened. */
    public enum Kind { INSERTED, REMOVED }

    @Override
    public String toString() {
      return (kind == Kind.INSERTED ? "card inserted: " : "card removed: ") + "'" + card.label() + "' (serial "
          + card.serial() + ")";
    }
  }

  private final HsmModule module;
  private Map<String, TokenDescription> present = new LinkedHashMap<>();

  /** Starts watching; the cards present now are the starting point and produce no events. */
  public CardWatcher(HsmModule module) throws HsmException {
    this.module = module;
    this.present = scan();
  }

  /** The cards present at the last poll. */
  public List<TokenDescription> present() {
    return List.copyOf(present.values());
  }

  /** Rescans and returns what changed since the last poll (removals first). */
  public List<CardEvent> poll() throws HsmException {
    module.rescan();
    Map<String, TokenDescription> now = scan();
    List<CardEvent> events = new ArrayList<>();
    for (TokenDescription was : present.values()) {
      if (!now.containsKey(was.serial())) {
        events.add(new CardEvent(CardEvent.Kind.REMOVED, was));
      }
    }
    for (TokenDescription is : now.values()) {
      if (!present.containsKey(is.serial())) {
        events.add(new CardEvent(CardEvent.Kind.INSERTED, is));
      }
    }
    present = now;
    return events;
  }

  private Map<String, TokenDescription> scan() throws HsmException {
    Map<String, TokenDescription> m = new LinkedHashMap<>();
    for (TokenDescription t : module.tokens()) {
      if (t.present()) {
        m.put(t.serial(), t);
      }
    }
    return m;
  }
}
