#!/bin/bash
# check_tshark.sh WRITER TSHARK DIR: tshark, an independent decoder, reads a
# pcap written by the apps' pcap writer and frame builder: the record count,
# each frame's length, a valid IPv4 header checksum, the UDP ports and
# lengths, and the sequence number in the payload must all come out right.
set -euo pipefail
writer=$1 tshark=$2 dir=$3
count=300
pcap=$dir/tshark-check.pcap
mkdir -p "$dir"
"$writer" "$pcap" "$count"

# One line per frame: length, IP checksum status (1 good, 0 bad), UDP ports and
# length, payload bytes 4..11 (the big-endian sequence number). Decode the
# payload as plain data: some payloads look like other protocols to tshark's
# heuristic dissectors.
fields=$("$tshark" -r "$pcap" -n -o ip.check_checksum:TRUE \
	-d udp.port==42424,data -T fields \
	-E separator=, -e frame.len -e ip.checksum.status -e ip.len \
	-e udp.srcport -e udp.dstport -e udp.length -e data.data)
lines=$(printf '%s\n' "$fields" | wc -l)
if [ "$lines" -ne "$count" ]; then
	echo "FAIL: tshark read $lines frames, expected $count"
	exit 1
fi
i=0
while IFS=, read -r len csum iplen sport dport ulen data; do
	want=$((60 + (i * 97) % 1455))
	seq_hex=$(printf '%016x' "$i")
	if [ "$len" != "$want" ] || [ "$csum" != 1 ] ||
	   [ "$iplen" != $((want - 14)) ] || [ "$sport" != 42424 ] ||
	   [ "$dport" != 42424 ] || [ "$ulen" != $((want - 34)) ] ||
	   [ "${data:0:8}" != 4e425047 ] || [ "${data:8:16}" != "$seq_hex" ]; then
		echo "FAIL: frame $i: got len=$len csum=$csum ip.len=$iplen" \
		     "ports=$sport/$dport udp.len=$ulen payload=${data:0:24};" \
		     "want len=$want seq=$seq_hex"
		exit 1
	fi
	i=$((i + 1))
done <<<"$fields"
echo "tshark decoded $count frames: lengths, IP checksums, UDP and sequence numbers correct"
