# nicbox - a thin front end; CMake does the building.
#
#   make deps    install the Debian packages the project needs (root)
#   make         configure and build the three trees below
#   make test    unit + model tests (ASan), fuzz smoke runs, QEMU testbed
#   make demo    the end-to-end demo in the QEMU testbed
#   make fuzz    every libFuzzer harness for FUZZ_SECONDS (default 600)
#   make bench   benchmarks (tables; never part of `make test`)
#   make devfuzz nicbox-devfuzz on QEMU's NIC models for DURATION seconds
#                (default 1800; docs/devfuzz.md)
#   make deb     Debian packages into build-deb/ (and lintian on them)
#   make clean
#
# Trees: build/ (RelWithDebInfo: testbed, demo, bench), build-asan/
# (ASan + UBSan: unit and model tests), build-fuzz/ (clang-14 + libFuzzer).

# Every Debian 12 package the project needs, in one place: the build
# (cmake ... pkg-config, libraries; libpcap for nicbox-capture), tests (cmocka, clang-14 and its
# runtime for libFuzzer), the QEMU testbed (qemu ... kmod, util-linux for
# setpriv, systemd for systemd-socket-activate/-analyze), pcap checks
# (tshark), the comparison peer (dpdk), and tools (valgrind, perf); man page
# rendering (groff-base) and the Debian packages (debhelper, lintian) that
# `make deb` builds and testbed check 81 installs; bubblewrap for the
# rootless-container check 82 (docs/containers.md).
# cmake/install-qemu10.sh then raises QEMU to 10.x from bookworm-backports
# (its igb device is the Intel NIC model we did not write).
DEB_PACKAGES := cmake make gcc pkg-config \
	libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev libpcap-dev \
	libcmocka-dev clang-14 libclang-rt-14-dev \
	qemu-system-x86 busybox-static cpio kmod util-linux systemd \
	tshark dpdk dpdk-dev valgrind linux-perf groff-base debhelper lintian \
	bubblewrap

JOBS ?= 2
FUZZ_SECONDS ?= 600
DURATION ?= 1800

.PHONY: all build build-release build-asan build-fuzz build-testbed deps \
	test demo fuzz bench deb clean devfuzz

all: build

deps:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' "$$pkg" 2>/dev/null | \
			grep -q '^install ok installed$$' || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all $(words $(DEB_PACKAGES)) Debian packages are installed"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
		echo "deps: missing:$$missing; installing needs root: run 'sudo make deps'" >&2; \
		exit 1; \
	else \
		echo "deps: missing:$$missing"; \
		apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends $$missing; \
	fi
	@sh cmake/install-qemu10.sh

build: build-release build-asan build-fuzz

# Configuring every time costs a second and recovers from a configure
# step that failed half-way.
build-release:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j$(JOBS)

build-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNB_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)

build-fuzz:
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNB_FUZZ=ON -DNB_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS)

# Findings (case files, the guest's kernel log, QEMU's fate) go to
# build/devfuzz-results/TIMESTAMP/ (test/devfuzz/run.sh).
devfuzz: build-release
	DURATION=$(DURATION) test/devfuzz/run.sh

# What the QEMU testbed runs: the release tree and the .debs (check 81).
build-testbed: build-release deb

# Each suite builds its own tree and runs even when another one failed.
test: deps
	@JOBS=$(JOBS) MAKE="$(MAKE)" cmake/run-tests.sh

# The demo and the benchmarks use only build/. Their scripts come from
# other parts of the project; until one exists, say so before building.
not_built_yet = [ -f $(2) ] || { \
	echo "make $(1): not built yet ($(2) does not exist)" >&2; exit 1; }

demo: deps
	@$(call not_built_yet,demo,test/vm/demo.sh)
	@$(MAKE) --no-print-directory build-release
	bash test/vm/demo.sh

fuzz: deps build-fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) cmake/run-fuzz.sh build-fuzz

bench: deps
	@$(call not_built_yet,bench,bench/run.sh)
	@$(MAKE) --no-print-directory build-release
	bash bench/run.sh

# dpkg-buildpackage writes the .debs next to the source tree, so it runs on
# a copy of the committed tree (plus uncommitted changes) in build-deb/src.
deb:
	@rm -rf build-deb && mkdir -p build-deb/src
	@git ls-files -z --cached --others --exclude-standard | \
		xargs -0 cp --parents -t build-deb/src
	cd build-deb/src && dpkg-buildpackage -us -uc -b -j$(JOBS)
	lintian --fail-on error build-deb/*.changes

clean:
	rm -rf build build-asan build-fuzz build-deb
