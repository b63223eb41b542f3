#!/usr/bin/env python3
"""Regenerates the golden files in this directory (run offline, from anywhere):

* lowercase.txt   - Python's context-free full lower-case mapping of every code point;
* pieces.json     - split-regex pieces of 3000 random strings (Python's regex module);
* random_ids.json - ids of 1500 random texts from an independent Python implementation
                    of the fast tokenizer's rules on testdata/clip/tiny-b32.

Needs python3 with the `regex` module. Deterministic: same output on every run
with the same Python/regex versions (recorded in the files).
"""
import json, os, random, sys, unicodedata

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "..", "testdata", "clip", "tiny-b32")
PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\p{White_Space}\p{L}\p{N}]+"""


def lowercase():
    lines = ["# Full lower-case mapping of every code point whose mapping is not itself:",
             "# CODEPOINT: MAPPING... (hex). Generated offline by python3 %s (Unicode %s):" % (sys.version.split()[0], unicodedata.unidata_version),
             "#   for c in range(0x110000): if chr(c).lower() != chr(c): print(...)",
             "# Python's str.lower applies the final-sigma rule only with context; a single",
             "# character has none, so this is the context-free full mapping."]
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        l = chr(c).lower()
        if l != chr(c):
            lines.append("%04X: %s" % (c, " ".join("%04X" % ord(x) for x in l)))
    with open(os.path.join(HERE, "lowercase.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def pieces():
    random.seed(20261127)
    pat = regex.compile(PATTERN)
    assigned = [c for c in range(0x20000) if not (0xD800 <= c < 0xE000) and unicodedata.category(chr(c)) not in ('Cn', 'Cs', 'Co')]
    pools = [
        list("abcdefxyzSTRMLD"), list("'''"), list("strevmld"), list("0123456789"),
        [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u0085", "\u2028"],
        list(".,!?-;:&#@~*()[]{}<>/\\\"’`^_|+=%$"),
        list("éèàüöñçåß"), ["\u0301", "\u0307", "\u094d", "\u0947", "\u200d", "\u200b"],
        list("猫の写真고양이привет"), ["🐱", "👍", "🏽", "🇫", "🇷"], list("²½Ⅻ٣٤"),
    ]
    cases = []
    for _ in range(3000):
        s = []
        for _ in range(random.randint(0, 24)):
            if random.random() < 0.15:
                s.append(chr(random.choice(assigned)))
            else:
                s.append(random.choice(random.choice(pools)))
        s = "".join(s)
        cases.append({"text": s, "pieces": pat.findall(s)})
    comment = ("split-regex pieces of random strings, computed offline with Python's regex module %s "
               "(Python %s, Unicode data of the regex module; code points chosen from Unicode %s assigned "
               "characters), pattern 's|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\p{White_Space}\\p{L}\\p{N}]+"
               % (regex.__version__, sys.version.split()[0], unicodedata.unidata_version))
    with open(os.path.join(HERE, "pieces.json"), "w") as f:
        json.dump({"comment": comment, "cases": cases}, f, ensure_ascii=False, indent=0)


def random_ids():
    enc = json.load(open(os.path.join(MODEL, "vocab.json")))
    merges = [tuple(l.split()) for l in open(os.path.join(MODEL, "merges.txt")).read().split("\n")[1:] if l]
    ranks = {m: i for i, m in enumerate(merges)}
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    benc = dict(zip(bs, map(chr, cs)))
    pat = regex.compile(PATTERN)
    ws = regex.compile(r"\p{White_Space}+")

    def bpe(token):  # OpenAI's loop: merge every occurrence of the best pair
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
            if best not in ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = new
        return word

    def encode(text, maxlen=77):
        t = unicodedata.normalize("NFC", text)
        t = ws.sub(" ", t)
        t = "".join(c.lower() for c in t)
        ids = []
        for piece in pat.findall(t):
            ids += [enc[w] for w in bpe("".join(benc[b] for b in piece.encode("utf-8")))]
        return [49406] + ids[:maxlen - 2] + [49407]

    fx = json.load(open(os.path.join(MODEL, "..", "texts.json")))["texts"]
    bad = [x["index"] for x in fx if encode(x["text"]) != x["input_ids"]]
    assert not bad, "reference disagrees with the fixture on %s" % bad

    random.seed(77)
    assigned = [c for c in range(0x30000) if not (0xD800 <= c < 0xE000) and unicodedata.category(chr(c)) not in ('Cn', 'Cs', 'Co')]
    words = ("a photo of the cat dog street market people walking beach sunset red car tree "
             "running playing photograph beautiful landscape mountains").split()
    pools = [list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), list("'"), list("0123456789"),
             [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u0085"], list(".,!?-;:&#@~*()/\"’"),
             list("éèàüöñçåßİΣ"), ["\u0301", "\u0307"], list("猫の写真고양이привет"), ["🐱", "👍", "🏽"]]
    cases = []
    for _ in range(1500):
        kind = random.random()
        if kind < 0.4:
            s = " ".join(random.choice(words) for _ in range(random.randint(1, 25)))
            s = "".join(c.upper() if random.random() < 0.1 else c for c in s)
        elif kind < 0.85:
            s = "".join(chr(random.choice(assigned)) if random.random() < 0.1 else random.choice(random.choice(pools))
                        for _ in range(random.randint(0, 40)))
        else:  # long letter runs: pieces longer than the small-merge limit
            s = "".join(random.choice("abcdefghilmnoprstuéß") for _ in range(random.randint(40, 400)))
        cases.append({"text": s, "input_ids": encode(s)})
    comment = ("ids for random texts, computed offline by an independent Python implementation of the "
               "fast-tokenizer rules (NFC, White_Space collapse, per-character str.lower, regex-module split, "
               "OpenAI BPE loop) on the tiny-b32 vocab/merges; Python %s, Unicode %s, regex %s"
               % (sys.version.split()[0], unicodedata.unidata_version, regex.__version__))
    with open(os.path.join(HERE, "random_ids.json"), "w") as f:
        json.dump({"comment": comment, "cases": cases}, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    lowercase()
    pieces()
    random_ids()
