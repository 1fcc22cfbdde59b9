package org.keyarc.ca.node;

import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.LeaderLock;
import org.keyarc.ca.store.PostgresFixture;
import org.keyarc.ca.store.jdbc.JdbcStore;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lead on a real PostgreSQL: a leader whose store or CA token stops answering (unfit) gives the lead up at its
 * next poll, so that a node that can do the scheduled work takes it; it does not take it back while the other
 * holds it; the embedded store's only node always leads.
 */
class LeadershipTest {
  @Test
  void anUnfitLeaderGivesTheLeadToAFitNode() throws Exception {
    try (PostgresFixture pg = PostgresFixture.start()) {
      String url = pg.newDatabase("keyarc_lead");
      try (JdbcStore store = JdbcStore.open(url, "postgres", null, 2);
          Leadership a = new Leadership(store.leaderLock(), "node-a");
          Leadership b = new Leadership(store.leaderLock(), "node-b")) {
        assertTrue(a.poll(true), "a takes the free lock");
        assertFalse(b.poll(true), "b does not get it");
        assertFalse(a.poll(false), "a's store or token fails: it gives the lead up");
        assertFalse(a.leader());
        assertTrue(b.poll(true), "b, fit, takes it at its next poll");
        assertFalse(a.poll(true), "a, fit again, does not take it back from b");
        assertTrue(b.leader());
      }
    }
  }

  @Test
  void theOnlyNodeOfAnEmbeddedStoreAlwaysLeads() {
    Leadership sole = new Leadership(LeaderLock.SOLE, "node");
    assertTrue(sole.poll(true));
    assertTrue(sole.poll(false), "there is no other node to give it to");
  }
}
