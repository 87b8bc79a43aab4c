#!/bin/sh
# The export examples in docs/, made by the command itself (docs/export.md).
# Run from the repository root: sh docs/export-examples.sh
set -e
gcnn-viewer export figure --model p4cnn z2cnn --rotate-and-cycle --angles 0 90 180 270 \
    --dpi 150 --out docs/export-rotate-and-cycle.png
gcnn-viewer export figure --model p4cnn z2cnn --rotate-and-cycle --angles 0 90 180 270 \
    --stabilised --dpi 150 --out docs/export-rotate-and-cycle-stabilised.png
gcnn-viewer export animation --model p4cnn z2cnn --layers l1 --channels 1 5 --frames 24 --fps 8 \
    --dpi 72 --out docs/export-turn.gif
gcnn-viewer export sweep --model z2cnn p4cnn --input 3 --dpi 120 --out docs/export-sweep.png
