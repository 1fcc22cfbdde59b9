package org.keyarc.hsm;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;

/**
 * C_WrapKey through the JDK's own PKCS#11 wrapper (module jdk.crypto.cryptoki), for one module bug the IAIK wrapper
 * cannot work around: NSS softoken (3.87) answers the size query of C_WrapKey with CKM_AES_KEY_WRAP_KWP with the
 * input's length, then CKR_BUFFER_TOO_SMALL for a buffer of that size. The IAIK wrapper's native code asks for the
 * size first; the JDK's offers a 4 KiB buffer first and retries with the size the module then names, as a portable
 * caller does. Both wrappers load the same library file in this process, so the session and key handles are the
 * same. Reached by reflection: the JVM needs {@code --add-exports
 * jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED} (the keyarc launcher and the tests pass it).
 */
final class JdkPkcs11Wrap {
  static final String ADD_EXPORTS = "--add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED";

  private JdkPkcs11Wrap() {}

  /** The JDK wrapper's pieces, looked up once (archival on such a module wraps on every request). */
  private record Reflected(Method getInstance, Method wrapKey, java.lang.reflect.Constructor<?> mechanism) {
    private static volatile Reflected found;

    static Reflected get() throws ReflectiveOperationException {
      Reflected r = found;
      if (r == null) {
        Class<?> p11 = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
        Class<?> initArgs = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
        Class<?> mech = Class.forName("sun.security.pkcs11.wrapper.CK_MECHANISM");
        r = new Reflected(p11.getMethod("getInstance", String.class, String.class, initArgs, boolean.class),
            p11.getMethod("C_WrapKey", long.class, mech, long.class, long.class), mech.getConstructor(long.class));
        found = r;
      }
      return r;
    }
  }

  /** C_WrapKey(session, mechanism without parameters, wrappingKey, key) through the JDK's wrapper. */
  static byte[] wrapKey(Path library, String tokenLabel, long session, long mechanism, long wrappingKey, long key)
      throws HsmException {
    try {
      Reflected r = Reflected.get();
      // omitInitialize: the library is initialised already (by the IAIK wrapper), with its arguments; the JDK keeps
      // one instance per library path
      Object instance = r.getInstance.invoke(null, library.toString(), "C_GetFunctionList", null, true);
      return (byte[]) r.wrapKey.invoke(instance, session, r.mechanism.newInstance(mechanism), wrappingKey, key);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      long code = -1;
      if (cause != null && cause.getClass().getName().equals("sun.security.pkcs11.wrapper.PKCS11Exception")) {
        try {
          code = (long) cause.getClass().getMethod("getErrorCode").invoke(cause);
        } catch (ReflectiveOperationException ignored) {
          // the code stays unknown
        }
      }
      throw new HsmException(HsmException.Reason.DEVICE_ERROR, "C_WrapKey", tokenLabel, code,
          "C_WrapKey failed on token '" + tokenLabel + "' (C_WrapKey"
              + (code >= 0 ? ": " + HsmException.ckrName(code) : "") + ", through the JDK's PKCS#11 wrapper)", e);
    } catch (IllegalAccessException e) {
      throw new HsmException(HsmException.Reason.MECHANISM_NOT_SUPPORTED, "C_WrapKey", tokenLabel, -1,
          "token '" + tokenLabel + "' needs C_WrapKey with a buffer larger than it reports, which the JVM can give "
              + "only when started with " + ADD_EXPORTS, e);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new HsmException(HsmException.Reason.MECHANISM_NOT_SUPPORTED, "C_WrapKey", tokenLabel, -1,
          "token '" + tokenLabel + "' needs C_WrapKey with a larger buffer, and the JDK's PKCS#11 wrapper is not "
              + "usable here: " + e, e);
    }
  }
}
