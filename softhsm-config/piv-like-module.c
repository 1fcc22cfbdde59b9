/*
 * A PKCS#11 module that behaves like a PIV card's, for tests: it forwards every call to the module named by
 * $KEYARC_PIV_TARGET (SoftHSM2 in the tests) and changes what OpenSC's PIV driver and Yubico's ykcs11 are
 * documented to do differently from a general-purpose token:
 *
 *   - every token is labelled "PIV_II" (OpenSC's PIV driver; the serial stays the card's own);
 *   - C_GenerateKeyPair is refused, CKR_FUNCTION_NOT_SUPPORTED (OpenSC's PIV driver makes no keys through
 *     PKCS#11; ykcs11 makes them only after an SO login with the management key): keys are made with ykman or
 *     yubico-piv-tool, then adopted;
 *   - C_SetAttributeValue is refused, CKR_ATTRIBUTE_READ_ONLY (ykcs11: a PIV key's attributes are fixed, so
 *     CKA_SIGN cannot be switched off);
 *   - C_CreateObject is refused, CKR_USER_NOT_LOGGED_IN (storing a certificate needs the management key).
 *
 * The keys themselves are made beside it, directly on the SoftHSM2 token, as yubico-piv-tool would make them in
 * slot 9d: RSA-2048, no label, CKA_ID 03 (ykcs11's id of the key-management slot). Used by PivLikeCardE2eTest.
 *
 * With KEYARC_PIV_MODE=ykcs11 it behaves as Yubico's ykcs11 instead: tokens are labelled "YubiKey PIV", and
 * C_GenerateKeyPair and C_CreateObject (a certificate) work only after C_Login(CKU_SO) with the PIV management key
 * ($KEYARC_PIV_MGMT_KEY, 48 hex digits; the module then logs in to the SoftHSM2 token with $KEYARC_PIV_TARGET_PIN);
 * a new key's CKA_ID must be one byte naming a PIV slot (01 = 9a, 02 = 9c, 03 = 9d, 04 = 9e, 05..18 = 82..95),
 * else CKR_ATTRIBUTE_VALUE_INVALID. C_SetAttributeValue stays refused.
 *
 *   cc -shared -fPIC -I/usr/include/p11-kit-1 -o piv-like-module.so piv-like-module.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR target;
static CK_FUNCTION_LIST piv;
static int ykcs11;          /* KEYARC_PIV_MODE=ykcs11 */
static int so_logged_in;    /* the management key was given (ykcs11 mode) */

static CK_RV piv_login(CK_SESSION_HANDLE s, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
  if (!ykcs11 || type != CKU_SO) {
    return target->C_Login(s, type, pin, len);
  }
  const char *key = getenv("KEYARC_PIV_MGMT_KEY");
  const char *user = getenv("KEYARC_PIV_TARGET_PIN");
  if (key == NULL || user == NULL) {
    return CKR_GENERAL_ERROR;
  }
  if (pin == NULL || len != strlen(key) || strncasecmp((const char *) pin, key, len) != 0) {
    return CKR_PIN_INCORRECT;
  }
  CK_RV rv = target->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) user, strlen(user));
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
    so_logged_in = 1;
    return CKR_OK;
  }
  return rv;
}

static CK_RV piv_logout(CK_SESSION_HANDLE s) {
  so_logged_in = 0;
  return target->C_Logout(s);
}

/* ykcs11 names a key by its PIV slot: a one-byte CKA_ID from 1 to 0x18 */
static int piv_slot_id(CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  for (CK_ULONG i = 0; i < n; i++) {
    if (t[i].type == CKA_ID) {
      return t[i].ulValueLen == 1 && ((CK_BYTE_PTR) t[i].pValue)[0] >= 1 && ((CK_BYTE_PTR) t[i].pValue)[0] <= 0x18;
    }
  }
  return 0;
}

static CK_RV piv_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv = target->C_GetTokenInfo(slot, info);
  if (rv == CKR_OK) {
    memset(info->label, ' ', sizeof(info->label));
    if (ykcs11) {
      memcpy(info->label, "YubiKey PIV", 11);
    } else {
      memcpy(info->label, "PIV_II", 6);
    }
  }
  return rv;
}

static CK_RV piv_generate_key_pair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub, CK_ULONG npub,
    CK_ATTRIBUTE_PTR priv, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv) {
  if (!ykcs11) {
    return CKR_FUNCTION_NOT_SUPPORTED;
  }
  if (!so_logged_in) {
    return CKR_USER_NOT_LOGGED_IN;
  }
  if (!piv_slot_id(priv, npriv)) {
    return CKR_ATTRIBUTE_VALUE_INVALID;
  }
  return target->C_GenerateKeyPair(s, m, pub, npub, priv, npriv, hpub, hpriv);
}

static CK_RV piv_set_attribute_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  return CKR_ATTRIBUTE_READ_ONLY;
}

static CK_RV piv_create_object(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o) {
  if (ykcs11 && so_logged_in) {
    return target->C_CreateObject(s, t, n, o);
  }
  return CKR_USER_NOT_LOGGED_IN;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (target == NULL) {
    const char *path = getenv("KEYARC_PIV_TARGET");
    void *lib = path == NULL ? NULL : dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
      fprintf(stderr, "piv-like-module: cannot load $KEYARC_PIV_TARGET (%s)\n", path == NULL ? "unset" : dlerror());
      return CKR_GENERAL_ERROR;
    }
    CK_C_GetFunctionList get = (CK_C_GetFunctionList) dlsym(lib, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR found = NULL;
    if (get == NULL || get(&found) != CKR_OK || found == NULL) {
      return CKR_GENERAL_ERROR;
    }
    const char *mode = getenv("KEYARC_PIV_MODE");
    ykcs11 = mode != NULL && strcmp(mode, "ykcs11") == 0;
    piv = *found;
    piv.version.major = 2;
    piv.version.minor = 40;
    piv.C_GetFunctionList = C_GetFunctionList;
    piv.C_GetTokenInfo = piv_get_token_info;
    piv.C_GenerateKeyPair = piv_generate_key_pair;
    piv.C_SetAttributeValue = piv_set_attribute_value;
    piv.C_CreateObject = piv_create_object;
    piv.C_Login = piv_login;
    piv.C_Logout = piv_logout;
    target = found;
  }
  *list = &piv;
  return CKR_OK;
}
