"""Checks that djpeg's goldens equal Pillow's Image.open(f).convert("RGB")/("L")."""
import glob, gzip, io, sys
from PIL import Image
import numpy as np

bad = 0
for f in sorted(glob.glob("*.jpg")):
    n = f[:-4]
    g = glob.glob(n + ".p?m.gz")
    exp = np.asarray(Image.open(io.BytesIO(gzip.open(g[0]).read())))
    im = Image.open(f)
    got = np.asarray(im.convert("L" if im.mode == "L" else "RGB"))
    d = np.abs(got.astype(int) - exp.astype(int)).max() if got.shape == exp.shape else -1
    if d != 0:
        bad += 1
    print(f"{f:28s} {im.mode:5s} {im.size} maxdiff={d}")
print("mismatches:", bad)
sys.exit(1 if bad else 0)
