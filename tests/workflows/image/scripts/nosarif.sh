#!/bin/sh
# Exits 0 without writing /results/results.sarif.
echo "forgot the results"
