/**
 * The recovery agent's side. Now: noticing smartcards arrive and leave ({@link org.keyarc.agent.CardWatcher}).
 * The recovery issue adds PIN entry, KRA key generation on the card, recovery steps and PKCS#12 output.
 */
package org.keyarc.agent;
