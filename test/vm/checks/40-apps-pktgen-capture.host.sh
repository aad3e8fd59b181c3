#!/bin/bash
# Host side of 40-apps-pktgen-capture: the host's tshark reads the pcap the
# unprivileged nicbox-capture wrote in the guest: the expected number of
# frames, each of the expected length, with a good IPv4 header checksum and
# pktgen's sequence numbers 0..count-1 in order, stamped with wall-clock
# times that never go backwards and span the sending time (count / rate).
set -uo pipefail
pcap=$NB_OUT/capture.pcap
if [[ ! -s $pcap || ! -s $NB_OUT/expected ]]; then
  echo "FAIL: no pcap or no expected counts in $NB_OUT (did the guest check run?)"
  exit 1
fi
. "$NB_OUT/expected" # count=N size=BYTES rate=PPS

fields=$(tshark -r "$pcap" -n -o ip.check_checksum:TRUE -d udp.port==42424,data \
  -T fields -E separator=, -e frame.len -e ip.checksum.status -e data.data \
  -e frame.time_epoch) || {
  echo "FAIL: tshark cannot read $pcap"
  exit 1
}
frames=$(grep -c . <<<"$fields")
echo "tshark read $frames frames"
if [[ $frames -ne $count ]]; then
  echo "FAIL: $frames frames, expected $count"
  exit 1
fi
bad=$(awk -F, -v size="$size" '
  { want = sprintf("4e425047%016x", NR - 1) }
  $1 != size || $2 != 1 || substr($3, 1, 24) != want { print NR ": " $0; n++ }
  END { exit n > 0 }' <<<"$fields" | head -n 5)
if [[ -n $bad ]]; then
  echo "FAIL: frames with a wrong length, bad IP checksum or out-of-order sequence number:"
  echo "$bad"
  exit 1
fi
echo "ok: $count frames of $size bytes, IP checksums good, sequence numbers 0..$((count - 1)) in order"

# Timestamps: never backwards; first to last about count / rate seconds (the
# receiver may trail the sender, never lead it); the first one within an
# hour of the file's modification time (a wall clock, not a monotonic one).
if ! awk -F, -v want="$((count / rate))" -v mtime="$(stat -c %Y "$pcap")" '
  NR == 1 { first = $4 }
  NR > 1 && $4 < last { print "frame " NR " is stamped before frame " NR - 1; bad = 1 }
  { last = $4 }
  END {
    span = last - first
    printf "timestamps: first %.6f, span %.3f s (sending took %d s)\n", first, span, want
    if (span < want * 0.9 || span > want * 3) { print "span out of range"; bad = 1 }
    if (first < mtime - 3600 || first > mtime + 60) { print "first timestamp far from the file time " mtime; bad = 1 }
    exit bad
  }' <<<"$fields"; then
  echo "FAIL: pcap timestamps"
  exit 1
fi
echo "ok: timestamps"
