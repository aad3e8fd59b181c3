# seccomp-gen.awk - policy/worker-seccomp.policy -> a C table of
# { syscall, arg, mask, value, reason } for core/lockdown.c. Fails (exit 1,
# "file:line: reason") on any line it does not understand.
function die(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}
function cnum(s) {
	if (s ~ /^0x[0-9a-fA-F]+$/ || s ~ /^[0-9]+$/)
		return s "ull"
	die("bad number '" s "'")
}
BEGIN {
	print "/* Generated from policy/worker-seccomp.policy by policy/seccomp-gen.awk. Do not edit. */"
	print "static const struct nb_seccomp_rule nb_worker_seccomp_rules[] = {"
}
/^[ \t]*(#|$)/ { next }
{
	if (NF < 3)
		die("want: SYSCALL CONDITION REASON")
	if ($1 !~ /^[a-z_][a-z0-9_]*$/)
		die("bad syscall name '" $1 "'")
	reason = $0
	sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", reason)
	gsub(/\\/, "\\\\", reason)
	gsub(/"/, "\\\"", reason)
	if ($2 == "-") {
		printf "\t{ \"%s\", -1, 0, 0, \"%s\" },\n", $1, reason
		next
	}
	if ($2 !~ /^arg[0-5]&[0-9a-fA-Fx]+==[0-9a-fA-Fx]+$/)
		die("bad condition '" $2 "' (want - or argN&MASK==VALUE)")
	split(substr($2, 4), parts, /&|==/)
	printf "\t{ \"%s\", %d, %s, %s, \"%s\" },\n", $1, parts[1] + 0, \
		cnum(parts[2]), cnum(parts[3]), reason
}
END {
	if (failed)
		exit 1
	print "};"
}
