#!/bin/sh
echo "coverage reports are not available in hv's offline build" >&2
exit 1
