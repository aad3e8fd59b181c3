#!/bin/bash
# Host side of 80-capture-filter: tshark reads the pcap that nicbox-capture
# wrote with the filter `udp port 42424`: exactly the 500 frames sent to that
# port, in sequence order, and none of the 300 sent to port 5353.
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
  { want = sprintf("4e425047%016x", NR - 1) }
  $1 != size || $2 != 42424 || $3 != 42424 || substr($4, 1, 24) != want { print NR ": " $0; n++ }
  END { exit n > 0 }' <<<"$fields" | head -n 5)
if [[ -n $bad ]]; then
  echo "FAIL: frames that do not match the filter or are out of order:"
  echo "$bad"
  exit 1
fi
echo "ok: $want frames, all UDP 42424 -> 42424, sequence 0..$((want - 1)); none of the $other to port 5353"
