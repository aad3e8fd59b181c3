# Shared by the VM benchmarks' host scripts (bench/vm-*.sh). Source it.

# bench_write_doc NAME SECTION: put SECTION (which starts with the line
# "<!-- NAME begin -->" and ends with "<!-- NAME end -->") into
# docs/performance.md in place of the old one, or at its end.
bench_write_doc() {
  local name=$1 section=$2 doc=$src/docs/performance.md
  if [[ -f $doc ]] && grep -q "<!-- $name begin -->" "$doc"; then
    SECTION=$section awk -v begin="<!-- $name begin -->" -v end="<!-- $name end -->" '
      $0 == begin { print ENVIRON["SECTION"]; skip = 1; next }
      $0 == end { skip = 0; next }
      !skip { print }' "$doc" >"$doc.tmp"
    mv "$doc.tmp" "$doc"
  else
    [[ -f $doc ]] || printf '# Performance\n' >"$doc"
    printf '\n%s\n' "$section" >>"$doc"
  fi
  echo "$name: table written into $doc"
}
