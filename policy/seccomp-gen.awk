# seccomp-gen.awk - policy/worker-seccomp.policy -> C for core/lockdown.c:
# the fd classes (enum nb_fd_class, written to the file named by
# -v classes_h=PATH) and on stdout the table of rules
# { syscall, n_terms, terms { arg, fd class or -1, mask, value }, reason }.
# Fails (exit 1, "file:line: reason") on any line it does not understand.
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
function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return s
}
# One term of a condition -> C initialiser; a term names arg N once.
function term(t, used,    p) {
	if (t ~ /^arg[0-5]&[0-9a-fA-Fx]+==[0-9a-fA-Fx]+$/) {
		split(substr(t, 4), p, /&|==/)
	} else if (t ~ /^arg[0-5]:[a-z_]+$/) {
		split(substr(t, 4), p, /:/)
		if (!(p[2] in class_id))
			die("fd class '" p[2] "' is not declared (@class NAME REASON)")
		if (has_class)
			die("one fd class per entry")
		has_class = 1
	} else {
		die("bad condition term '" t "' (want argN&MASK==VALUE or argN:CLASS)")
	}
	if ((p[1] + 0) in used)
		die("arg" p[1] " named twice in one entry")
	used[p[1] + 0] = 1
	if (t ~ /:/)
		return sprintf("{ %d, NB_FDS_%s, 0, 0 }", p[1] + 0, toupper(p[2]))
	return sprintf("{ %d, -1, %s, %s }", p[1] + 0, cnum(p[2]), cnum(p[3]))
}
BEGIN {
	if (classes_h == "") {
		print "seccomp-gen.awk: want -v classes_h=PATH" > "/dev/stderr"
		failed = 1
		exit 1
	}
	n_classes = 0
	n_rules = 0
}
/^[ \t]*(#|$)/ { next }
$1 == "@class" {
	if (NF < 3 || $2 !~ /^[a-z_]+$/)
		die("want: @class NAME REASON")
	if ($2 in class_id)
		die("fd class '" $2 "' declared twice")
	if (n_rules)
		die("declare fd classes before the entries")
	class_id[$2] = n_classes
	class_name[n_classes++] = $2
	next
}
{
	if (NF < 3)
		die("want: SYSCALL CONDITION REASON")
	if ($1 !~ /^[a-z_][a-z0-9_]*$/)
		die("bad syscall name '" $1 "'")
	reason = $0
	sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", reason)
	if ($2 == "-") {
		rule[n_rules++] = sprintf("\t{ \"%s\", 0, { { 0 } }, \"%s\" },", $1, cstr(reason))
		next
	}
	n = split($2, terms, /,/)
	if (n > 3)
		die("at most 3 terms in a condition")
	has_class = 0
	delete used
	out = ""
	for (i = 1; i <= n; i++)
		out = out (i > 1 ? ", " : "") term(terms[i], used)
	rule[n_rules++] = sprintf("\t{ \"%s\", %d, { %s }, \"%s\" },", $1, n, out, cstr(reason))
}
END {
	if (failed)
		exit 1
	print "/* Generated from policy/worker-seccomp.policy by policy/seccomp-gen.awk. Do not edit. */" > classes_h
	print "#ifndef NB_FD_CLASSES_H\n#define NB_FD_CLASSES_H" > classes_h
	print "enum nb_fd_class {" > classes_h
	for (i = 0; i < n_classes; i++)
		printf "\tNB_FDS_%s,\n", toupper(class_name[i]) > classes_h
	print "\tNB_FD_CLASSES\n};\n#endif" > classes_h
	print "/* Generated from policy/worker-seccomp.policy by policy/seccomp-gen.awk. Do not edit. */"
	print "static const struct nb_seccomp_rule nb_worker_seccomp_rules[] = {"
	for (i = 0; i < n_rules; i++)
		print rule[i]
	print "};"
}
