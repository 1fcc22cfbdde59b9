/**
 * Authentication and authorisation: who sent a request ({@link org.keyarc.ca.auth.IdentityService}), the
 * one-time secrets ({@link org.keyarc.ca.auth.SecretService}), roles and role separation
 * ({@link org.keyarc.ca.auth.RoleService}) and the role checks every service makes
 * ({@link org.keyarc.ca.auth.Authorization}).
 */
package org.keyarc.ca.auth;
