package org.keyarc.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** A SoftHSM2 token folder appearing is a card inserted; the folder going away is the card pulled. */
class CardWatcherTest {

  @Test
  void insertionAndRemovalAreReportedWithTheCardsLabel() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("kra-1")) {
      CardWatcher watcher = new CardWatcher(hsm.module());
      assertTrue(watcher.present().stream().anyMatch(c -> c.label().equals(hsm.label("kra-1"))));
      assertEquals(List.of(), watcher.poll(), "nothing changed");

      String late = hsm.addToken("kra-2");
      List<CardWatcher.CardEvent> inserted = watcher.poll();
      assertEquals(1, inserted.size(), inserted.toString());
      assertEquals(CardWatcher.CardEvent.Kind.INSERTED, inserted.get(0).kind());
      assertEquals(late, inserted.get(0).card().label());
      assertTrue(inserted.get(0).toString().startsWith("card inserted: '" + late + "' (serial "));

      Path away = hsm.pullCard("kra-2");
      try {
        List<CardWatcher.CardEvent> removed = watcher.poll();
        assertEquals(1, removed.size(), removed.toString());
        assertEquals(CardWatcher.CardEvent.Kind.REMOVED, removed.get(0).kind());
        assertEquals(late, removed.get(0).card().label());
      } finally {
        hsm.reinsertCard(away);
      }
    }
  }
}
