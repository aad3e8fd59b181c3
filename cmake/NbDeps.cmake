# Find every dependency through pkg-config; a missing one stops the
# configure step with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config (or run `make deps`)")
endif()

function(nb_require target module debian_pkg)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR
      "${module} not found: apt-get install ${debian_pkg} (or run `make deps`)")
  endif()
endfunction()

nb_require(SECCOMP libseccomp libseccomp-dev)
nb_require(LIBCAP libcap libcap-dev)
nb_require(LIBNL libnl-3.0 libnl-3-dev)
nb_require(LIBNL_ROUTE libnl-route-3.0 libnl-route-3-dev)
nb_require(LIBPCAP libpcap libpcap-dev)
if(NB_TESTS)
  nb_require(CMOCKA cmocka libcmocka-dev)
endif()
