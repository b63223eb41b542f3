#!/bin/bash
# Regenerates the golden JPEG inputs and expected outputs in this directory.
# Needs libjpeg-turbo-progs 2.1.5 (cjpeg/djpeg), ImageMagick and python3-pil 9.4
# (Debian 12). Expected outputs are djpeg's default decode (islow IDCT, fancy
# upsampling) as binary PPM/PGM, gzip-compressed; gen_check.py verifies that
# Pillow's Image.open(f).convert("RGB") gives the same pixels.
set -euo pipefail
cd "$(dirname "$0")"
IMG=../../../testdata/clip/images
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
djpeg -ppm $IMG/astronaut.jpg > $T/astro.ppm
djpeg -ppm $IMG/rocket.jpg > $T/rocket.ppm
# source crops (photo content with edges)
convert $T/astro.ppm -crop 33x17+200+150 +repage $T/s33x17.ppm
convert $T/rocket.ppm -crop 17x250+300+100 +repage $T/s17x250.ppm
convert $T/rocket.ppm -crop 250x17+200+200 +repage $T/s250x17.ppm
convert $T/astro.ppm -crop 1x1+256+256 +repage $T/s1x1.ppm
convert $T/astro.ppm -crop 2x2+256+256 +repage $T/s2x2.ppm
convert $T/astro.ppm -crop 3x5+250+250 +repage $T/s3x5.ppm
convert $T/astro.ppm -crop 101x77+150+60 +repage $T/s101x77.ppm
convert $T/rocket.ppm -resize 160x107 $T/s160.ppm
rm -f *.jpg *.gz
enc() { # name source args...
  local n=$1 s=$2; shift 2
  cjpeg "$@" -outfile $n.jpg $T/$s.ppm
}
enc s420_33x17 s33x17 -sample 2x2
enc s422_33x17 s33x17 -sample 2x1
enc s444_33x17 s33x17 -sample 1x1
enc s411_33x17 s33x17 -sample 4x1
enc s440_33x17 s33x17 -sample 1x2
enc s420_17x250 s17x250 -sample 2x2
enc s422_250x17 s250x17 -sample 2x1
enc s440_17x250 s17x250 -sample 1x2
enc s411_101x77 s101x77 -sample 4x1
enc s420_1x1 s1x1 -sample 2x2
enc s420_2x2 s2x2 -sample 2x2
enc s422_3x5 s3x5 -sample 2x1
enc s420_3x5 s3x5 -sample 2x2
enc s420_101x77 s101x77 -sample 2x2
enc s422_101x77 s101x77 -sample 2x1
enc s440_101x77 s101x77 -sample 1x2
enc mixed_101x77 s101x77 -sample 2x2,2x1,1x2
enc s31_101x77 s101x77 -sample 3x1
enc s14_101x77 s101x77 -sample 1x4
enc s42_101x77 s101x77 -sample 4x2
enc q100_101x77 s101x77 -quality 100 -sample 2x2
enc q5_101x77 s101x77 -quality 5 -sample 2x1
enc q1_160 s160 -quality 1 -sample 1x1
enc restart_rows_160 s160 -restart 1 -sample 2x2
enc restart_blocks_101x77 s101x77 -restart 3B -sample 2x1
enc restart1b_33x17 s33x17 -restart 1B -sample 2x2
enc prog420_160 s160 -progressive -sample 2x2
enc prog444_101x77 s101x77 -progressive -sample 1x1
enc prog422_33x17 s33x17 -progressive -sample 2x1 -restart 1B
enc progrst_160 s160 -progressive -restart 2
enc progopt_101x77 s101x77 -progressive -optimize -sample 4x1
enc gray_101x77 s101x77 -grayscale
enc grayprog_160 s160 -grayscale -progressive
enc gray_1x1 s1x1 -grayscale
enc rgb_101x77 s101x77 -rgb
enc rgb420_33x17 s33x17 -rgb -sample 2x2
enc opt_160 s160 -optimize
printf '0;\n1;\n2;\n' > $T/seq.scans
enc seqscans_101x77 s101x77 -scans $T/seq.scans -sample 2x2
printf '0: 0-0, 0, 0;\n1 2: 0-0, 0, 0;\n0: 1-63, 0, 0;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n' > $T/prog2.scans
enc progsplit_33x17 s33x17 -scans $T/prog2.scans -sample 2x2
# Progressive files that stop before every coefficient is exact: libjpeg
# applies block smoothing (jdcoefct.c decompress_smooth_data) to these.
printf '0 1 2: 0 0 0 0;\n' > $T/dconly.scans
printf '0 1 2: 0 0 0 1;\n0: 1 5 0 2;\n1: 1 63 0 1;\n2: 1 63 0 0;\n0: 6 63 0 0;\n' > $T/partial.scans
printf '0 1 2: 0 0 0 2;\n0 1 2: 0 0 2 1;\n0: 1 9 0 3;\n0: 1 9 3 2;\n1: 1 2 0 1;\n2: 1 1 0 0;\n' > $T/mixed.scans
printf '0: 0 0 0 1;\n0: 1 5 0 1;\n' > $T/gpart.scans
convert $T/rocket.ppm -resize 9x9! $T/s9x9.ppm
convert $T/rocket.ppm -resize 40x41! $T/s40x41.ppm
convert $T/rocket.ppm -resize 64x40! $T/s64x40.ppm
enc smooth_dconly420_101x77 s101x77 -progressive -scans $T/dconly.scans -sample 2x2
enc smooth_dconly_9x9 s9x9 -progressive -scans $T/dconly.scans -sample 1x1
enc smooth_partial411_64x40 s64x40 -progressive -scans $T/partial.scans -sample 4x1
enc smooth_partial440_40x41 s40x41 -progressive -scans $T/partial.scans -sample 1x2
enc smooth_mixed420_33x17 s33x17 -progressive -scans $T/mixed.scans -sample 2x2
enc smooth_gray13_40x41 s40x41 -grayscale -progressive -scans $T/gpart.scans -sample 1x3
for f in *.jpg; do
  n=${f%.jpg}
  if djpeg $f | head -c 2 | grep -q P5; then ext=pgm; else ext=ppm; fi
  djpeg $f | gzip -9n > $n.$ext.gz
done
# CMYK (Adobe, inverted) written by Pillow; expected from Pillow (djpeg cannot write CMYK->RGB the Pillow way)
/usr/bin/python3 - "$T" <<'PY'
import sys
from PIL import Image
T = sys.argv[1]
im = Image.open(T + "/s101x77.ppm").convert("CMYK")
# add some K so that the K channel is not all zero
px = im.load()
for y in range(im.size[1]):
    for x in range(im.size[0]):
        c, m, yy, k = px[x, y]
        px[x, y] = (c, m, yy, (x * 3 + y * 2) % 256)
im.save("cmyk_101x77.jpg", quality=85)
im2 = Image.open(T + "/s33x17.ppm").convert("CMYK")
im2.save("cmykprog_33x17.jpg", quality=60, progressive=True)
for n in ("cmyk_101x77", "cmykprog_33x17"):
    Image.open(n + ".jpg").convert("RGB").save(T + "/" + n + ".ppm")
PY
for n in cmyk_101x77 cmykprog_33x17; do gzip -9nc $T/$n.ppm > $n.ppm.gz; done
# refused variants
cjpeg -arithmetic -outfile arith_33x17.jpg.bad $T/s33x17.ppm
/usr/bin/python3 gen_variants.py
# Reduced-size decodes (djpeg -scale 1/N: jidctred.c IDCTs) for every file.
for f in *.jpg; do
  n=${f%.jpg}
  for s in 2 4 8; do
    if djpeg $f | head -c 2 | grep -q P5; then ext=pgm; else ext=ppm; fi
    # (exit status 2 = warnings, e.g. the unknown Adobe transform of ycck1)
    { djpeg -scale 1/$s $f || [ $? -eq 2 ]; } | gzip -9n > $n.s$s.$ext.gz
  done
done
/usr/bin/python3 gen_corrupt.py
/usr/bin/python3 gen_check.py
