"""Makes corrupt_*.jpg: files from this directory with damaged entropy-coded
data (changed bytes, inserted markers, deleted spans). libjpeg decodes them
with warnings (zero-filled data after a premature marker, skipped rest of a
restart interval, resynchronisation on wrong RST markers, bad Huffman codes)
and Pillow returns the image. Kept only where djpeg's default (SIMD) output,
its C-only output (JSIMD_FORCENONE=1) and Pillow's agree; expected output is
djpeg's PPM/PGM, gzip-compressed."""
import glob, gzip, io, os, random, subprocess
from PIL import Image

random.seed(20261127)
srcs = sorted(f for f in glob.glob("*.jpg") if not f.startswith("corrupt_"))
kept = 0
classes = {}
for i in range(3000):
    if kept >= 18:
        break
    f = random.choice(srcs)
    d = bytearray(open(f, "rb").read())
    sos = [j for j in range(len(d) - 1) if d[j] == 0xFF and d[j + 1] == 0xDA]
    start = random.choice(sos) + 14
    for k in range(random.randint(1, 3)):
        end = len(d) - 2
        if end - 3 <= start:
            break
        p = random.randint(start, end - 3)
        op = random.randint(0, 3)
        if op == 0:
            d[p] = random.randint(0, 255)
        elif op == 1:
            d[p:p] = bytes([0xFF, random.choice([0xD0 + random.randint(0, 7), 0xD9, 0xC4, 0xFE])])
        elif op == 2:
            del d[p:p + random.randint(1, 20)]
        else:
            d[p] ^= 1 << random.randint(0, 7)
    tmp = "corrupt_tmp.jpg"
    open(tmp, "wb").write(d)
    simd = subprocess.run(["djpeg", tmp], capture_output=True)
    env = dict(os.environ, JSIMD_FORCENONE="1")
    plain = subprocess.run(["djpeg", tmp], capture_output=True, env=env)
    os.remove(tmp)
    if simd.returncode not in (0, 2) or not simd.stdout or simd.stdout != plain.stdout:
        continue
    if simd.returncode == 0:
        continue  # keep only files that libjpeg warns about
    try:
        im = Image.open(io.BytesIO(bytes(d)))
        im.load()
    except Exception:
        continue
    if im.mode == "CMYK":
        continue
    exp = Image.open(io.BytesIO(simd.stdout))
    if im.convert(exp.mode).tobytes() != exp.tobytes():
        continue
    cls = "".join(c for c in simd.stderr.decode().splitlines()[0] if not c.isdigit())
    if classes.get(cls, 0) >= 3:
        continue
    classes[cls] = classes.get(cls, 0) + 1
    name = "corrupt_%02d_%s" % (kept, f[:-4])
    open(name + ".jpg", "wb").write(d)
    ext = ".pgm.gz" if simd.stdout[:2] == b"P5" else ".ppm.gz"
    open(name + ext, "wb").write(gzip.compress(simd.stdout, mtime=0))
    print(name, simd.stderr.decode().strip().replace("\n", "; "))
    kept += 1
