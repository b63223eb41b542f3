#!/usr/bin/python3
"""Goldens for reduced_test.go: coffee_exif6.jpg (stored 240x360, EXIF
orientation 6) decoded by libjpeg-turbo's djpeg at 1/2 and 1/4 scale, then
rotated 90 degrees clockwise as ImageOps.exif_transpose does for
orientation 6. Raw RGB bytes, row-major."""
import subprocess, io
import numpy as np
from PIL import Image

src = "../../testdata/clip/images/coffee_exif6.jpg"
for s in (2, 4, 8):
    ppm = subprocess.run(["djpeg", "-scale", f"1/{s}", "-ppm", src], check=True, capture_output=True).stdout
    a = np.asarray(Image.open(io.BytesIO(ppm)).convert("RGB"))
    a = np.rot90(a, k=-1)  # orientation 6: rotate 90 clockwise
    open(f"coffee_exif6_s{s}.rgb", "wb").write(np.ascontiguousarray(a).tobytes())
    print(s, a.shape)

# reduced_*.jpg (TestDecodeReducedVariants) are crops of imageio/jpeg's
# fixtures to sizes divisible by 8, made with:
#   jpegtran -crop 96x72+0+0 -copy none ../jpeg/testdata/gray_101x77.jpg > reduced_gray_96x72.jpg
#   jpegtran -crop 96x72+0+0 -copy none ../jpeg/testdata/cmyk_101x77.jpg > reduced_cmyk_96x72.jpg
#   jpegtran -crop 96x72+0+0 -copy none ../jpeg/testdata/mixed_101x77.jpg > reduced_mixed_96x72.jpg
#   jpegtran -crop 160x96+0+0 -progressive -copy none ../jpeg/testdata/prog420_160.jpg > reduced_prog420_160x96.jpg
