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
 *   cc -shared -fPIC -I/usr/include/p11-kit-1 -o piv-like-module.so piv-like-module.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR target;
static CK_FUNCTION_LIST piv;

static CK_RV piv_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv = target->C_GetTokenInfo(slot, info);
  if (rv == CKR_OK) {
    memset(info->label, ' ', sizeof(info->label));
    memcpy(info->label, "PIV_II", 6);
  }
  return rv;
}

static CK_RV piv_generate_key_pair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub, CK_ULONG npub,
    CK_ATTRIBUTE_PTR priv, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv) {
  return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_RV piv_set_attribute_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  return CKR_ATTRIBUTE_READ_ONLY;
}

static CK_RV piv_create_object(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o) {
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
    piv = *found;
    piv.version.major = 2;
    piv.version.minor = 40;
    piv.C_GetFunctionList = C_GetFunctionList;
    piv.C_GetTokenInfo = piv_get_token_info;
    piv.C_GenerateKeyPair = piv_generate_key_pair;
    piv.C_SetAttributeValue = piv_set_attribute_value;
    piv.C_CreateObject = piv_create_object;
    target = found;
  }
  *list = &piv;
  return CKR_OK;
}
