/*
 * A PKCS#11 module that exports C_GetFunctionList only, and forwards it to the module named by
 * $KEYARC_SHIM_TARGET. For tests: OpenSC 0.23's pkcs11-spy crashes in C_GetInterfaceList in front of a
 * PKCS#11 2.40 module (SoftHSM2, tpm2-pkcs11), and the IAIK wrapper asks for the interface list first when a
 * module exports it; behind this shim it asks for the function list, which the spy answers.
 *
 *   cc -shared -fPIC -o pkcs11-v2-shim.so pkcs11-v2-shim.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long CK_RV;
typedef CK_RV (*get_function_list)(void **);

#define CKR_GENERAL_ERROR 0x5UL

CK_RV C_GetFunctionList(void **list) {
  static get_function_list target;
  if (target == NULL) {
    const char *path = getenv("KEYARC_SHIM_TARGET");
    void *lib = path == NULL ? NULL : dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
      fprintf(stderr, "pkcs11-v2-shim: cannot load $KEYARC_SHIM_TARGET (%s)\n", path == NULL ? "unset" : dlerror());
      return CKR_GENERAL_ERROR;
    }
    target = (get_function_list) dlsym(lib, "C_GetFunctionList");
    if (target == NULL) {
      return CKR_GENERAL_ERROR;
    }
  }
  return target(list);
}
