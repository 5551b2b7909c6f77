#!/bin/bash
# Checks that the tools `make test` needs are installed.  When one is
# missing it prints the apt-get line that installs it; as root with CI=true
# or SG_AUTO_INSTALL=1 it runs that line itself.  Exit 1 if anything is
# still missing afterwards.
set -u
export PATH=$PATH:/usr/sbin:/sbin

# command:Debian package
TOOLS=(
	cc:build-essential make:build-essential nm:binutils objdump:binutils
	iptables:iptables ip:iproute2 unshare:util-linux python3:python3
	curl:curl socat:socat redis-server:redis-server redis-cli:redis-tools
	redis-benchmark:redis-tools nginx:nginx-light wrk:wrk rsyslogd:rsyslog
	strace:strace gzip:gzip setcap:libcap2-bin timeout:coreutils
	go:golang-go setpriv:util-linux flock:util-linux
	systemd-analyze:systemd journalctl:systemd
	prometheus-node-exporter:prometheus-node-exporter promtool:prometheus
	musl-gcc:musl-tools
	sshd:openssh-server ssh:openssh-client scp:openssh-client
	ssh-keygen:openssh-client
)

have_criterion() {
	echo '#include <criterion/criterion.h>' |
		${CC:-cc} -E -x c - >/dev/null 2>&1
}

# Prints the packages whose tools are missing, one per line, no repeats.
missing_packages() {
	local entry
	have_criterion || echo libcriterion-dev
	for entry in "${TOOLS[@]}"; do
		command -v "${entry%%:*}" >/dev/null 2>&1 || echo "${entry#*:}"
	done | sort -u
}

mapfile -t missing < <(missing_packages)
((${#missing[@]} == 0)) && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) == 0 && (${CI:-} == true || ${SG_AUTO_INSTALL:-} == 1) ]]; then
	echo "check-deps: installing ${missing[*]}"
	apt-get update -q && DEBIAN_FRONTEND=noninteractive $line </dev/null
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} == 0)) && exit 0
	line="apt-get install -y --no-install-recommends ${missing[*]}"
fi
echo "check-deps: the tests need packages that are not installed: ${missing[*]}" >&2
echo "check-deps: install them with:  sudo $line" >&2
echo "check-deps: (or run as root with SG_AUTO_INSTALL=1 to let this script do it)" >&2
exit 1
