#!/bin/bash
# check_installed.sh BUILD EXAMPLES STAGE CC [CFLAGS]: install BUILD to the prefix
# STAGE as an ordinary install would (no root: the policy goes under
# STAGE/etc), then build the reflector against it the two ways
# docs/writing-an-app.md tells: pkg-config and CMake's find_package.
# CFLAGS: what a sanitizer build's library needs from its users too.
set -euo pipefail
build=$1 examples=$2 stage=$3 cc=$4 cflags=${5:-}
rm -rf "$stage"
mkdir -p "$stage"
cmake --install "$build" --prefix "$stage" >"$stage.install.log"

for f in include/nicbox.h lib/libnicbox.so.0 lib/libnicbox.a \
	 lib/pkgconfig/libnicbox.pc lib/cmake/nicbox/nicboxConfig.cmake \
	 lib/cmake/nicbox/nicboxConfigVersion.cmake etc/nicbox/nicbox.conf \
	 lib/sysusers.d/nicbox.conf lib/tmpfiles.d/nicbox.conf \
	 share/man/man3/libnicbox.3 share/bash-completion/completions/nicbox-capture; do
	[[ -e $stage/$f ]] || { echo "FAIL: $stage/$f not installed"; exit 1; }
done
outside=$(grep -v "^$stage/" "$build/install_manifest.txt" || true)
if [[ -n $outside ]]; then
	echo "FAIL: installed outside the prefix $stage (a user could not):"
	echo "$outside"
	exit 1
fi
echo "ok: installed to $stage, nothing outside it ($(wc -l <"$build/install_manifest.txt") files)"

# pkg-config: the .pc finds its prefix from where it is installed.
export PKG_CONFIG_PATH=$stage/lib/pkgconfig
pc=pkg-config
# shellcheck disable=SC2046
"$cc" $cflags -Wall -Wextra -Werror "$examples/reflector.c" $($pc --cflags --libs libnicbox) \
	-o "$stage/reflector"
# Static: libnicbox.a, and what `pkg-config --static` adds for it.
# shellcheck disable=SC2046
"$cc" $cflags -Wall -Wextra -Werror "$examples/reflector.c" $($pc --cflags libnicbox) \
	-L"$stage/lib" -Wl,-Bstatic -lnicbox -Wl,-Bdynamic \
	$($pc --static --libs-only-l libnicbox | sed 's/-lnicbox//') -o "$stage/reflector-static"
libs=$(LD_LIBRARY_PATH=$stage/lib ldd "$stage/reflector")
grep -q "libnicbox.so.0 => $stage/lib/" <<<"$libs" || {
	echo "FAIL: reflector does not load $stage/lib/libnicbox.so.0: $libs"; exit 1; }
if grep -q libnicbox <<<"$(ldd "$stage/reflector-static")"; then
	echo "FAIL: reflector-static still loads libnicbox.so"; exit 1
fi
# Without a helper, both fail cleanly with the library's message.
for bin in reflector reflector-static; do
	out=$(NICBOX_SOCKET=$stage/none.sock LD_LIBRARY_PATH=$stage/lib "$stage/$bin" eth0 2>&1) && {
		echo "FAIL: $bin ran without a helper"; exit 1; }
	grep -q 'nicbox-helper' <<<"$out" || { echo "FAIL: $bin said: $out"; exit 1; }
done
echo "ok: reflector built with pkg-config (shared and static) and fails cleanly without a helper"

# CMake: find_package(nicbox) with the version, both targets.
mkdir -p "$stage/cmake-src"
cp "$examples/reflector.c" "$stage/cmake-src/"
cat >"$stage/cmake-src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(reflector C)
find_package(nicbox 0.1 REQUIRED)
add_executable(reflector reflector.c)
target_link_libraries(reflector PRIVATE nicbox::nicbox)
add_executable(reflector-static reflector.c)
target_link_libraries(reflector-static PRIVATE nicbox::nicbox_static)
CM
cmake -S "$stage/cmake-src" -B "$stage/cmake-build" -DCMAKE_PREFIX_PATH="$stage" \
	-DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" >"$stage/cmake.log"
cmake --build "$stage/cmake-build" >>"$stage/cmake.log"
[[ -x $stage/cmake-build/reflector && -x $stage/cmake-build/reflector-static ]]
sed -i 's/find_package(nicbox 0.1 REQUIRED)/find_package(nicbox 0.2 REQUIRED)/' "$stage/cmake-src/CMakeLists.txt"
if cmake -S "$stage/cmake-src" -B "$stage/cmake-bad" -DCMAKE_PREFIX_PATH="$stage" \
	-DCMAKE_C_COMPILER="$cc" >"$stage/cmake-bad.log" 2>&1; then
	echo "FAIL: find_package(nicbox 0.2) accepted version 0.1"; exit 1
fi
echo "ok: find_package(nicbox 0.1) builds against nicbox::nicbox and nicbox::nicbox_static; 0.2 is refused"
