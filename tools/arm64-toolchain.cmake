# Cross-compiling flame for arm64 (Jetson, JetPack 6) on an amd64 Debian 12 machine with GCC 11,
# Ubuntu 22.04's compiler (g++-11-aarch64-linux-gnu). C and C++ runtime come with the compiler
# (/usr/aarch64-linux-gnu); everything else from a sysroot of unpacked :arm64 packages made by
# tools/arm64-sysroot.sh, named by FLAME_ARM64_SYSROOT (cache or environment). docs/platforms.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
if(NOT CMAKE_CXX_COMPILER)
  set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++-11)
endif()
if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc-11)
endif()

if(NOT FLAME_ARM64_SYSROOT)
  set(FLAME_ARM64_SYSROOT "$ENV{FLAME_ARM64_SYSROOT}")
endif()
if(NOT IS_DIRECTORY "${FLAME_ARM64_SYSROOT}/usr/include")
  message(FATAL_ERROR "FLAME_ARM64_SYSROOT='${FLAME_ARM64_SYSROOT}' is not a sysroot (tools/arm64-sysroot.sh DIR)")
endif()
set(FLAME_ARM64_SYSROOT "${FLAME_ARM64_SYSROOT}" CACHE PATH "Unpacked :arm64 packages (tools/arm64-sysroot.sh)")
# try_compile projects read the toolchain file again: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FLAME_ARM64_SYSROOT)

set(CMAKE_FIND_ROOT_PATH "${FLAME_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Headers the packages' CMake files do not name (systemd, zlib via pkg-config/FindZLIB) and the
# libraries the sysroot's libraries need at link time.
set(CMAKE_CXX_FLAGS_INIT "-isystem ${FLAME_ARM64_SYSROOT}/usr/include")
set(_libdirs "${FLAME_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu:${FLAME_ARM64_SYSROOT}/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_libdirs}")

# pkg-config: the sysroot's .pc files (libsystemd), and systemd.pc for the unit directories.
set(PKG_CONFIG_EXECUTABLE pkg-config CACHE FILEPATH "pkg-config")
set(ENV{PKG_CONFIG_LIBDIR}
    "${FLAME_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${FLAME_ARM64_SYSROOT}/usr/share/pkgconfig:/usr/share/pkgconfig")
