# Shell side of the fault fixtures, for test scripts: source this file.
# The same faults as tests/lib/fixture.h, on one TCP port of 127.0.0.1.
#
#   sg_in_netns CMD [ARG]...   run CMD in a new network namespace, lo up
#   sg_fault_add KIND PORT     KIND: drop, rst, host-unreach, net-unreach
#   sg_fault_del KIND PORT
#   sg_fault_del_after MS KIND PORT   lift the rule later, in the background
#   sg_syn_retries N           net.ipv4.tcp_syn_retries of this namespace
#   sg_closed_port             print a port nothing listens on
#
# The fault functions change the namespace they run in: call them inside
# sg_in_netns (a script re-executing itself there is the usual way), never
# on the host.

sg_in_netns() {
	unshare --net -- sh -c 'ip link set lo up && exec "$@"' sg-netns "$@"
}

# Prints the iptables rule for a fault, as the C fixtures word it.
sg__rule() {
	local target
	case $1 in
	drop) target=DROP ;;
	rst) target="REJECT --reject-with tcp-reset" ;;
	host-unreach) target="REJECT --reject-with icmp-host-unreachable" ;;
	net-unreach) target="REJECT --reject-with icmp-net-unreachable" ;;
	*) echo "sg_fault: unknown kind $1" >&2; return 1 ;;
	esac
	echo "INPUT -p tcp --dport $2 -j $target"
}

sg_fault_add() {
	local rule
	rule=$(sg__rule "$1" "$2") || return 1
	# shellcheck disable=SC2086  # the rule is words on purpose
	iptables -w -A $rule
}

sg_fault_del() {
	local rule
	rule=$(sg__rule "$1" "$2") || return 1
	# shellcheck disable=SC2086
	iptables -w -D $rule
}

sg_fault_del_after() {
	(sleep "$(awk -v ms="$1" 'BEGIN { print ms / 1000 }')" && sg_fault_del "$2" "$3") &
}

sg_syn_retries() {
	echo "$1" >/proc/sys/net/ipv4/tcp_syn_retries
}

sg_closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
