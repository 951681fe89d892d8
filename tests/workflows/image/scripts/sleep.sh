#!/bin/sh
# Runs for FF_PARAM_SECONDS, then succeeds with an empty SARIF log.
echo "::progress 5 sleeping ${FF_PARAM_SECONDS}s"
sleep "${FF_PARAM_SECONDS:-1}"
printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"ff-sleep"}},"results":[]}]}' > /results/results.sarif
