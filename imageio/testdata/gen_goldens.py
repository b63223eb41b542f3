#!/usr/bin/python3
"""Generates the imageio golden files with Pillow 9.4 (Debian 12 python3-pil).

Run from imageio/testdata: /usr/bin/python3 gen_goldens.py
Outputs: images (*.png, *.gif, *.bmp, *.tiff, *.webp), raw RGB outputs of
ImageOps.exif_transpose(Image.open(f)).convert("RGB") (*.rgb) and
golden.json describing them; resize goldens (resize_*.rgb) and cmyk.rgb.
"""
import io, json, struct, zlib
import numpy as np
from PIL import Image, ImageOps, __version__

assert __version__ == "9.4.0", __version__
rng = np.random.default_rng(20261127)
manifest = {"pillow": __version__, "decode": [], "resize": [], "cmyk": None}


def base_image(w, h):
    """A non-symmetric test picture: gradients plus a few marks and noise."""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    g = (y * 255 // max(h - 1, 1)).astype(np.uint8)
    b = ((x * 7 + y * 13) % 256).astype(np.uint8)
    a = np.stack([r, g, b], -1)
    a[: h // 4, : w // 3] = [250, 20, 20]  # red block top-left
    a += rng.integers(0, 8, a.shape, dtype=np.uint8)
    return a


def record(fname, im_bytes, note):
    with open(fname, "wb") as f:
        f.write(im_bytes)
    im = Image.open(io.BytesIO(im_bytes))
    mode = im.mode
    if im.format == "TIFF":
        # Pillow 9.4 already applies a TIFF's Orientation tag when loading
        # (TiffImageFile.load_end), so exif_transpose would apply it twice
        # (a Pillow bug). The upright image is the loaded one.
        out = im.convert("RGB")
    else:
        out = ImageOps.exif_transpose(im).convert("RGB")
    raw = fname + ".rgb"
    with open(raw, "wb") as f:
        f.write(out.tobytes())
    manifest["decode"].append({"file": fname, "rgb": raw, "width": out.width,
                               "height": out.height, "mode": mode, "note": note})


def exif_bytes(orientation):
    """EXIF block with "Exif\\0\\0" prefix, as Pillow writes it."""
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()


def save(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


# Orientation: PNG with eXIf chunk for each of the 8 values (stored 13x7).
src = Image.fromarray(base_image(13, 7))
for o in range(1, 9):
    record(f"orient{o}.png", save(src, "PNG", exif=exif_bytes(o)), f"eXIf orientation {o}")

# PNG orientation from text chunks (Pillow's getexif: "Raw profile type exif"
# when there is no eXIf, XMP tiff:Orientation when EXIF has no 0x0112).
from PIL import PngImagePlugin
import zlib

def png_with(text_chunks=(), exif=None):
    info = PngImagePlugin.PngInfo()
    for kind, k, v in text_chunks:
        if kind == "itxt":
            info.add_itxt(k, v)
        elif kind == "ztxt":
            info.add_text(k, v, zip=True)
        else:
            info.add_text(k, v)
    kw = {"pnginfo": info}
    if exif is not None:
        kw["exif"] = exif
    return save(src, "PNG", **kw)

def raw_profile(exif):
    h = exif.hex()
    lines = [h[i:i + 72] for i in range(0, len(h), 72)]
    return "\nexif\n" + "%8d" % len(exif) + "\n" + "\n".join(lines) + "\n"

def exif_make_only():
    e = Image.Exif()
    e[0x010F] = "Maker"
    return e.tobytes()

def move_exif_after_idat(png):
    # Re-order chunks: eXIf goes right after the last IDAT.
    chunks, i = [], 8
    while i < len(png):
        n = struct.unpack(">I", png[i:i + 4])[0]
        chunks.append(png[i:i + 12 + n]); i += 12 + n
    ex = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] != b"eXIf"]
    last = max(k for k, c in enumerate(rest) if c[4:8] == b"IDAT")
    return png[:8] + b"".join(rest[:last + 1] + ex + rest[last + 1:])

xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="%d"/></x:xmpmeta>'
record("xmp6.png", png_with([("itxt", "XML:com.adobe.xmp", xmp % 6)]), "iTXt XMP orientation 6")
record("xmp8_ztxt.png", png_with([("ztxt", "XML:com.adobe.xmp", "<tiff:Orientation>8</tiff:Orientation>")]), "zTXt XMP orientation 8")
record("rawexif3.png", png_with([("text", "Raw profile type exif", raw_profile(exif_bytes(3)))]), "tEXt Raw profile type exif, orientation 3")
record("exif1_xmp6.png", png_with([("itxt", "XML:com.adobe.xmp", xmp % 6)], exif=exif_bytes(1)), "eXIf orientation 1 wins over XMP 6")
record("exifmake_xmp3.png", png_with([("itxt", "XML:com.adobe.xmp", xmp % 3)], exif=exif_make_only()), "eXIf without orientation, XMP 3")
record("exif_after_idat5.png", move_exif_after_idat(save(src, "PNG", exif=exif_bytes(5))), "eXIf after IDAT, orientation 5")
record("exif_after_idat7_text.png", move_exif_after_idat(png_with([("text", "Raw profile type exif", raw_profile(exif_bytes(2)))], exif=exif_bytes(7))), "raw profile 2 before IDAT, eXIf 7 after IDAT")

# TIFF with its own Orientation tag.
record("orient6.tiff", save(src, "TIFF", tiffinfo={0x0112: 6}), "TIFF tag 274 = 6")

# GIF: palette with transparency; and a first frame smaller than the screen.
pal_im = Image.fromarray(base_image(40, 30)).quantize(colors=32)
record("palette.gif", save(pal_im, "GIF"), "P, 32 colours")
record("palette_trns.gif", save(pal_im, "GIF", transparency=3), "P with transparency index 3")

def gif_offset_frame():
    # Hand-written GIF89a: 8x6 screen, global table of 4 colours, one 3x2
    # frame at (4,3), transparent index 2.
    w, h = 8, 6
    out = bytearray(b"GIF89a" + struct.pack("<HH", w, h) + bytes([0x81, 0, 0]))
    out += bytes([10, 20, 30, 200, 10, 10, 40, 220, 40, 5, 6, 250])
    out += bytes([0x21, 0xF9, 4, 0x01, 0, 0, 2, 0])  # GCE: transparent index 2
    out += bytes([0x2C]) + struct.pack("<HHHH", 4, 3, 3, 2) + bytes([0])
    # LZW: min code size 2, pixels 1,3,2,1,0,3 as 3-bit codes with clear (4) and end (5)
    codes = [4, 1, 3, 2, 1, 0, 3, 5]
    # encode with code size 3 and no table growth issues: emit clear before each pixel
    codes = [4]
    for p in [1, 3, 2, 1, 0, 3]:
        codes += [p, 4]
    codes[-1] = 5
    bits = 0; n = 0; data = bytearray()
    for c in codes:
        bits |= c << n; n += 3
        while n >= 8:
            data.append(bits & 0xFF); bits >>= 8; n -= 8
    if n:
        data.append(bits & 0xFF)
    out += bytes([2, len(data)]) + data + bytes([0, 0x3B])
    return bytes(out)

record("offset_frame.gif", gif_offset_frame(), "3x2 first frame at (4,3) on an 8x6 screen")

def gif_index_beyond_table(local):
    # 4x2 image, 2-colour table, pixels 0..3 and 7: Pillow shows grey (i,i,i)
    # for indices past the table.
    w, h = 4, 2
    flags = 0x00 if local else 0x80
    out = bytearray(b"GIF89a" + struct.pack("<HH", w, h) + bytes([flags, 0, 0]))
    table = bytes([10, 20, 30, 200, 10, 10])
    if not local:
        out += table
    out += bytes([0x2C]) + struct.pack("<HHHH", 0, 0, w, h) + bytes([0x80 if local else 0])
    if local:
        out += table
    codes = [8]  # clear code for min code size 3 (4-bit codes)
    for p in [0, 1, 2, 3, 7, 1, 0, 5]:
        codes += [p, 8]
    codes[-1] = 9
    bits = 0; n = 0; data = bytearray()
    for c in codes:
        bits |= c << n; n += 4
        while n >= 8:
            data.append(bits & 0xFF); bits >>= 8; n -= 8
    if n:
        data.append(bits & 0xFF)
    out += bytes([3, len(data)]) + data + bytes([0, 0x3B])
    return bytes(out)

record("index_beyond_table.gif", gif_index_beyond_table(False), "pixel indices past the 2-entry global table")
record("index_beyond_local_table.gif", gif_index_beyond_table(True), "pixel indices past the 2-entry local table")

# BMP: 24-bit, 8-bit palette, 1-bit.
rgb = Image.fromarray(base_image(31, 17))
record("rgb24.bmp", save(rgb, "BMP"), "24-bit BMP, odd width (row padding)")
record("pal8.bmp", save(rgb.quantize(colors=50), "BMP"), "8-bit palette BMP")
record("gray.bmp", save(rgb.convert("L"), "BMP"), "8-bit gray BMP")
record("bilevel.bmp", save(rgb.convert("1"), "BMP"), "1-bit BMP")
record("bilevel.tiff", save(rgb.convert("1"), "TIFF"), "1-bit TIFF")
record("bilevel.png", save(rgb.convert("1"), "PNG"), "1-bit PNG")
def png_chunk(typ, data):
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", zlib.crc32(typ + data) & 0xFFFFFFFF)

def gray_png(bits):
    # Hand-written low-bit-depth grayscale PNG (Pillow only writes 8-bit L).
    g = np.asarray(rgb.convert("L")) >> (8 - bits)
    h, w = g.shape
    raw = bytearray()
    per = 8 // bits
    for row in g:
        raw.append(0)
        for i in range(0, w, per):
            v = 0
            for j in range(per):
                v <<= bits
                if i + j < w:
                    v |= int(row[i + j])
            raw.append(v)
    ihdr = struct.pack(">IIBBBBB", w, h, bits, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(bytes(raw))) + png_chunk(b"IEND", b""))

record("gray2.png", gray_png(2), "2-bit gray PNG")
record("gray4.png", gray_png(4), "4-bit gray PNG")

# TIFF: RGB, gray, palette, RGBA, 16-bit RGB via numpy (Pillow writes I;16 only for gray).
record("rgb.tiff", save(rgb, "TIFF"), "RGB TIFF")
record("rgb_lzw.tiff", save(rgb, "TIFF", compression="tiff_lzw"), "RGB TIFF LZW")
record("gray.tiff", save(rgb.convert("L"), "TIFF"), "gray TIFF")
record("pal.tiff", save(rgb.quantize(colors=20), "TIFF"), "palette TIFF")
rgba = rgb.copy(); rgba.putalpha(Image.fromarray((base_image(31, 17)[:, :, 1] // 2).astype(np.uint8)))
record("rgba.tiff", save(rgba, "TIFF"), "RGBA TIFF (unassociated alpha)")
record("rgba.png", save(rgba, "PNG"), "RGBA PNG")
record("rgba32.bmp", save(rgba, "BMP"), "32-bit BMP with alpha")

def associated_alpha_tiff():
    # Pillow cannot write RGBa TIFFs: write premultiplied samples as an RGBA
    # TIFF, then mark the alpha as associated (ExtraSamples 338: 2 -> 1).
    a = np.asarray(rgba).astype(np.int64)
    pre = a.copy()
    pre[..., :3] = a[..., :3] * a[..., 3:4] // 255
    b = bytearray(save(Image.fromarray(pre.astype(np.uint8), "RGBA"), "TIFF"))
    assert b[:4] == b"II*\x00"
    off = struct.unpack("<I", b[4:8])[0]
    n = struct.unpack("<H", b[off:off + 2])[0]
    for k in range(n):
        e = off + 2 + 12 * k
        if struct.unpack("<H", b[e:e + 2])[0] == 338:
            assert struct.unpack("<H", b[e + 8:e + 10])[0] == 2
            b[e + 8:e + 10] = struct.pack("<H", 1)
            return bytes(b)
    raise AssertionError("no ExtraSamples tag")

record("rgba_assoc.tiff", associated_alpha_tiff(), "RGBA TIFF with associated (premultiplied) alpha")
record("la.png", save(rgba.convert("LA"), "PNG"), "gray+alpha PNG")

# Adam7-interlaced PNGs (Pillow cannot write them; ImageMagick can).
import subprocess
for name, im in [("interlaced_rgb.png", rgb), ("interlaced_pal.png", rgb.quantize(colors=7))]:
    im.save("/tmp/_in.png")
    subprocess.run(["convert", "/tmp/_in.png", "-interlace", "PNG", "-define", "png:exclude-chunks=date,time", "/tmp/_out.png"], check=True)
    with open("/tmp/_out.png", "rb") as f:
        data = f.read()
    assert data[8 + 8 + 12] == 1, "not interlaced"
    record(name, data, "Adam7-interlaced PNG (ImageMagick)")

# WebP: lossless (exact), lossy (libwebp YUV->RGB), lossy with alpha.
big = Image.fromarray(base_image(67, 45))
record("lossless.webp", save(big, "WEBP", lossless=True), "lossless WebP")
record("lossy.webp", save(big, "WEBP", quality=80), "lossy WebP, 4:2:0")
record("lossy_odd.webp", save(Image.fromarray(base_image(33, 21)), "WEBP", quality=90), "lossy WebP, odd size")
bigA = big.copy(); bigA.putalpha(128)
record("lossy_alpha.webp", save(bigA, "WEBP", quality=80), "lossy WebP with alpha")
record("orient8.webp", save(big, "WEBP", lossless=True, exif=exif_bytes(8)), "lossless WebP, EXIF orientation 8")

# Resize goldens, packed into resize.bin (offsets in golden.json): a noisy
# 37x23 and a smooth 100x70 source, every Pillow filter.
noise = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)
smooth = base_image(100, 70)
blob = bytearray()
for arr, sizes in [(noise, [(111, 46), (18, 7), (37, 47), (73, 23), (7, 5), (1, 1), (38, 22), (80, 61)]),
                   (smooth, [(50, 23), (101, 69), (13, 70), (100, 9), (33, 140)])]:
    h, w = arr.shape[:2]
    src_off = len(blob)
    blob += arr.tobytes()
    im = Image.fromarray(arr)
    for (tw, th) in sizes:
        for res in [0, 1, 2, 3, 4, 5]:
            out = im.resize((tw, th), resample=res).tobytes()
            manifest["resize"].append({"src_offset": src_off, "src_width": w, "src_height": h,
                                       "width": tw, "height": th, "resample": res, "offset": len(blob)})
            blob += out
with open("resize.bin", "wb") as f:
    f.write(blob)

# CMYK -> RGB conversion table: 4096 CMYK samples.
cm = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
cm[0, :16] = [[0, 0, 0, 0], [255, 255, 255, 255], [255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255],
              [128, 128, 128, 128], [1, 2, 3, 4], [255, 255, 255, 0], [0, 0, 0, 128], [127, 0, 0, 127], [200, 100, 50, 25],
              [255, 255, 0, 1], [1, 1, 1, 254], [254, 254, 254, 1], [64, 64, 64, 64]]
with open("cmyk_src.raw", "wb") as f:
    f.write(cm.tobytes())
with open("cmyk.rgb", "wb") as f:
    f.write(Image.frombytes("CMYK", (64, 64), cm.tobytes()).convert("RGB").tobytes())
manifest["cmyk"] = {"src": "cmyk_src.raw", "rgb": "cmyk.rgb", "n": 4096}

# A CMYK TIFF: valid, but x/image/tiff cannot decode it (ErrUnsupported).
with open("cmyk.tiff", "wb") as f:
    f.write(save(Image.frombytes("CMYK", (64, 64), cm.tobytes()), "TIFF"))

# Animated WebPs (first frame): lossless, lossy with alpha, and
# anim_offset.webp, made once with cwebp + webpmux (first frame: lossy 6x4
# at (4,2) on a 12x10 canvas) and kept as an input.
a = Image.new("RGB", (8, 6), (200, 10, 10))
record("anim.webp", save(a, "WEBP", save_all=True, append_images=[Image.new("RGB", (8, 6), (10, 200, 10))], duration=100, lossless=True), "animated lossless WebP")
fa = Image.fromarray(base_image(20, 14)).convert("RGBA")
fa.putalpha(Image.fromarray((base_image(20, 14)[:, :, 0]).astype(np.uint8)))
record("anim_alpha.webp", save(fa, "WEBP", save_all=True, append_images=[fa.rotate(90)], duration=50, quality=70), "animated lossy WebP with alpha")
with open("anim_offset.webp", "rb") as f:
    record("anim_offset.webp", f.read(), "animated WebP, first frame at an offset")

with open("golden.json", "w") as f:
    json.dump(manifest, f, indent=1)
