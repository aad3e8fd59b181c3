#!/bin/bash
# Host side of 80-capture-filter: tshark reads the pcap that nicbox-capture
# wrote with the filter `udp port 42424`: exactly the 500 frames sent to that
# port, each sequence number 0..499 once, and none of the 300 sent to port
# 5353; and the
# pcap written to standard output with 'udp dst port 7777': 100 frames, all
# to port 7777.
set -uo pipefail
pcap=$NB_OUT/filtered.pcap
if [[ ! -s $pcap || ! -s $NB_OUT/expected ]]; then
  echo "FAIL: no pcap or no expected counts in $NB_OUT (did the guest check run?)"
  exit 1
fi
. "$NB_OUT/expected" # other=N want=N size=BYTES

fields=$(tshark -r "$pcap" -n -d udp.port==42424,data -T fields -E separator=, \
  -e frame.len -e udp.srcport -e udp.dstport -e data.data) || {
  echo "FAIL: tshark cannot read $pcap"
  exit 1
}
frames=$(grep -c . <<<"$fields")
ports=$(cut -d, -f2,3 <<<"$fields" | sort | uniq -c | tr -s ' ')
echo "tshark read $frames frames; ports (count src,dst):$ports"
if [[ $frames -ne $want ]]; then
  echo "FAIL: $frames frames, expected $want"
  exit 1
fi
bad=$(awk -F, -v size="$size" '
  $1 != size || $2 != 42424 || $3 != 42424 || substr($4, 1, 8) != "4e425047" { print NR ": " $0; n++ }
  END { exit n > 0 }' <<<"$fields" | head -n 5)
if [[ -n $bad ]]; then
  echo "FAIL: frames that do not match the filter:"
  echo "$bad"
  exit 1
fi
seqs=$(cut -d, -f4 <<<"$fields" | cut -c9-24 | sort -u)
if [[ $(grep -c . <<<"$seqs") -ne $want || $(head -n 1 <<<"$seqs") != "$(printf %016x 0)" ||
      $(tail -n 1 <<<"$seqs") != "$(printf %016x $((want - 1)))" ]]; then
  echo "FAIL: the sequence numbers are not 0..$((want - 1)) once each"
  exit 1
fi
echo "ok: $want frames, all UDP 42424 -> 42424, sequence numbers 0..$((want - 1)) once each; none of the $other to port 5353"

pcap=$NB_OUT/stdout.pcap
ports=$(tshark -r "$pcap" -n -T fields -e udp.dstport) || {
  echo "FAIL: tshark cannot read $pcap"
  exit 1
}
n=$(grep -c . <<<"$ports")
other=$(grep -cvx 7777 <<<"$ports")
echo "stdout.pcap: $n frames, $other not to port 7777"
if [[ $n -ne 100 || $other -ne 0 ]]; then
  echo "FAIL: want 100 frames, all to UDP port 7777"
  exit 1
fi
echo "ok: --out - wrote 100 frames, all to port 7777"
