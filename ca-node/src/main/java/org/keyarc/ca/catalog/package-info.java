/**
 * The catalog of templates the CA offers, as runtime objects in the store: seeded from the built-in templates and
 * the configuration, administered by the CA administrator ({@code keyarc template ...}), every change audited and
 * taken up by every node within seconds, without a restart.
 */
package org.keyarc.ca.catalog;
