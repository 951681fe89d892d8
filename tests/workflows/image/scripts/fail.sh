#!/bin/sh
# The analysis itself fails.
echo "about to fail"
exit "${FF_PARAM_CODE:-3}"
