"""Makes color-space variants by editing marker segments of files made by
gen.sh, so that libjpeg's color-space guessing paths (JFIF, Adobe transform,
component ids) are all exercised. Expected output: Pillow 9.4 convert("RGB")."""
import gzip, io
from PIL import Image

def segments(data):
    i = 2
    out = []
    while True:
        m = data[i + 1]
        l = data[i + 2] << 8 | data[i + 3]
        out.append((i, m, l))
        if m == 0xDA:
            return out
        i += 2 + l

def drop(data, marker):
    for i, m, l in segments(data):
        if m == marker:
            return data[:i] + data[i + 2 + l:]
    raise ValueError("marker not found")

def set_adobe(data, transform):
    for i, m, l in segments(data):
        if m == 0xEE:
            b = bytearray(data)
            b[i + 4 + 11] = transform
            return bytes(b)
    raise ValueError("no Adobe marker")

def save(name, data):
    open(name + ".jpg", "wb").write(data)
    im = Image.open(io.BytesIO(data))
    mode = "L" if im.mode == "L" else "RGB"
    buf = io.BytesIO()
    im.convert(mode).save(buf, format="PPM")
    open(name + (".pgm.gz" if mode == "L" else ".ppm.gz"), "wb").write(gzip.compress(buf.getvalue(), mtime=0))

cmyk = open("cmyk_101x77.jpg", "rb").read()
save("ycck_101x77", set_adobe(cmyk, 2))        # 4 comps, transform 2: YCCK
save("ycck1_101x77", set_adobe(cmyk, 1))       # unknown transform: YCCK
save("cmyknoadobe_101x77", drop(cmyk, 0xEE))   # no Adobe: plain CMYK
rgb = open("rgb_101x77.jpg", "rb").read()
save("rgbids_101x77", drop(rgb, 0xEE))         # ids 'R','G','B': RGB
save("rgbadobe1_101x77", set_adobe(rgb, 1))    # Adobe transform 1: YCbCr
ycc = open("s420_33x17.jpg", "rb").read()
save("nojfif_33x17", drop(ycc, 0xE0))          # ids 1,2,3: YCbCr

def set_ids(data, ids):
    b = bytearray(data)
    for i, m, l in segments(data):
        if m in (0xC0, 0xC1, 0xC2):
            for k, v in enumerate(ids):
                b[i + 4 + 6 + 3 * k] = v
        if m == 0xDA:
            for k, v in enumerate(ids):
                b[i + 4 + 1 + 2 * k] = v
    return bytes(b)

# Duplicate component ids (libjpeg-turbo maps them to frame components in order).
save("dupids_33x17", set_ids(open("s444_33x17.jpg", "rb").read(), [1, 1, 1]))
