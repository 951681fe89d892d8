#!/bin/sh
# Prints "tick N" on stdout every half second (and a progress line every other tick) for
# FF_PARAM_SECONDS, then succeeds with an empty SARIF log: output to follow while it runs.
end=$(( $(date +%s) + ${FF_PARAM_SECONDS:-1} ))
n=0
while [ "$(date +%s)" -lt "$end" ]; do
	n=$((n + 1))
	echo "tick $n"
	[ $((n % 2)) -eq 0 ] && echo "::progress $((n % 100)) tick $n"
	sleep 0.5
done
echo "ticker done after $n ticks"
printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"ff-ticker"}},"results":[]}]}' > /results/results.sarif
