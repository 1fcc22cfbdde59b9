package org.keyarc.ca.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Template definitions ({@code template_def}). Every method runs on the caller's unit of work. */
public interface TemplateStore {
  /** One template: its name, version, whether it is offered, and its definition (JSON). */
  record Row(String name, int version, boolean enabled, String definition, Instant updatedAt, String updatedBy) {}

  /** Every template, by name. */
  List<Row> list() throws StoreException;

  /** One template, locked until the unit of work ends (so that two changes never share a version). */
  Optional<Row> lock(String name) throws StoreException;

  /** A new template; false when the name is taken. */
  boolean insert(Row r) throws StoreException;

  /** Replaces a template's version, state and definition. */
  void update(Row r) throws StoreException;

  /** The seal over every definition (hex), locked until the unit of work ends; empty before the first. */
  java.util.Optional<String> lockSeal() throws StoreException;

  /** Replaces the seal. */
  void setSeal(String mac, Instant at, String by) throws StoreException;

  /** The sum of every template's version and how many there are: changes when any template changes. */
  long fingerprint() throws StoreException;
}
