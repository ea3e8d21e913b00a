#!/usr/bin/env bash
# Placeholder: hearth's nft module vs `nft -f` of the equivalent ruleset.
# The nft module's helper owns this script and replaces it.
echo "bench/compare/nft.sh: not available yet (lands with the nft module)" >&2
exit 1
