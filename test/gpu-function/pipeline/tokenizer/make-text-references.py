"""Writes text-references.json: Python's own output for the two text functions the CLIP tokenizer
ports, ftfy.fix_text (ftfy 6.3) and html.unescape, on edge cases and on generated mojibake.
Run with the team's Python reference environment from the repository root:

    /work/team/pyref/bin/python test/gpu-function/pipeline/tokenizer/make-text-references.py

The TypeScript ports were also fuzzed against these functions on ~10,000 (ftfy) and ~28,000
(html.unescape) generated strings with no differences; this file pins a deterministic sample.
"""
import html
import json
import os
import random

import ftfy
from html.entities import html5

HERE = os.path.dirname(os.path.abspath(__file__))

# Examples from ftfy's docstrings and README, plus edges of each fixer.
FTFY_EXAMPLES = [
    "âœ” No problems", "&macr;\\_(ã\x83\x84)_/&macr;", "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!", "ＬＯＵＤ　ＮＯＩＳＥＳ",
    "sÃ³", "voilÃ le travail", "Ã la mode", "fÃ cil", "Ã quele", "â€œ like this â€�", "&ATILDE;&SUP3;",
    "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E", "&ntilde; &Ntilde; &NTILDE; &nTILDE;", "&Jscr;ohn &HilbertSpace;ancock",
    "this&not that", "&lt;tag&gt;", "<p>&lt;tag&gt;</p>", "first line &amp;\n<b>second</b> &amp;\nthird &amp;",
    "\x1b[36;44mI'm blue, da ba dee da ba doo...\x1b[0m", "ﬂuﬃeﬆ", "Ｕﾀｰﾝ", "\u201chere\u2019s a test\u201d",
    "This string is made of two things:\u20291. Unicode\u20282. Spite", "Content-type: text/plain\r\n\r\nHi.",
    "What is this \x85 I don't even", "\ud83d\udca9", "\udca9\ud83d", "lone \ud83d here", "\ufeffWhere do you want to go today?",
    "\x00\x01\x02 \x0b\x0c \x1f\x7f \u206a \ufff9\ufffc", "cafe\u0301", "\x80\x81\x8d\x9f", "here comes a null! \xc3\x80\xc2\x80",
    "ð\x9f\x98\x80 emoji", "Ã\xa0 trois", "Ã¨Â®Â¢", "РґРѕР±СЂРѕ", "Ð¿Ñ\x80Ð¸Ð²ÐµÑ\x82", "Ã¢â‚¬Å“doubleÃ¢â‚¬Â\x9d",
    "l'Ã©tÃ©", "AHÃ\x85", "ÃƒÂ©", "Ã©Ã©Ã© and é", "\u0152 œ œa", "25Â°C", "×² ×³", "√± ≈°", "вЂ", "β€™", "ā€",
    "ГўВЂВ™s", "‚Äù", "ÂÂÂ", "Â¡Hola!", "Â«guillemetsÂ»",
]


def mojibake_corpus(rng, count):
    words = ["café", "naïve", "crème brûlée", "piñata", "Ελληνικά", "Москва", "日本語", "über", "façade", "à la mode",
             "señor", "Zürich", "smørrebrød", "Łódź", "İstanbul", "Ærø", "“quoted”", "it’s", "—dash—", "…", "€5", "©2024",
             "½ cup", "x² + y³", "25°C", "™", "🇺🇸", "ﬁsh", "ＬＯＵＤ", "ｶﾀｶﾅ", "\u00a0", "&eacute;", "&amp;amp;", "<b>", "\r\n", "\x92"]
    encodings = ["latin-1", "windows-1252", "windows-1251", "windows-1250", "windows-1253", "windows-1254", "windows-1257",
                 "iso-8859-2", "mac_roman", "cp437"]
    pool = "".join(chr(c) for c in list(range(0x20, 0x7F)) + list(range(0x80, 0x180)) + [
        0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x20AC, 0x2122, 0x2022, 0x2013, 0x2014, 0x0432, 0x0402, 0x0413, 0x045E,
        0x0412, 0x03B2, 0x0392, 0x0101, 0x221A, 0x2248, 0x201A, 0x2550, 0x2502, 0xFFFD, 0x3000, 0xFF21, 0xFB01])
    out = []
    while len(out) < count:
        if rng.random() < 0.7:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
            text = text.encode("utf-8").decode(rng.choice(encodings), errors="replace")
            if rng.random() < 0.3:
                text = text.encode("utf-8").decode(rng.choice(encodings[:2]), errors="replace")
            if rng.random() < 0.2:
                text = text.replace("\xa0", " ")
        else:
            text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        if text not in out:
            out.append(text)
    return out


def entity_corpus(rng, count):
    names = sorted(html5.keys())
    pieces = ["&", "&#", "&#x", ";", "amp", "AMP", "not", "notin", "it", "x", "9", "12", "F", "#", " ", "é", "😀", "lt", "quot",
              "eacute", "EACUTE", "0", "128", "65", "d800", "110000", "fffe", "13"]
    out = ["&" + rng.choice(names) for _ in range(count // 4)]
    out += ["&" + rng.choice(names).rstrip(";") + "x;" for _ in range(count // 8)]
    for cp in [0, 1, 9, 13, 0x1F, 0x7F, 0x80, 0x81, 0x85, 0x9F, 0xA0, 0xD7FF, 0xD800, 0xDFFF, 0xFDD0, 0xFFFE, 0x1FFFF, 0x10FFFF, 0x110000, 10**20]:
        out += ["&#%d;" % cp, "&#x%X" % cp]
    while len(out) < count:
        out.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))))
    return out


def main():
    rng = random.Random(2024)
    fix_inputs = FTFY_EXAMPLES + mojibake_corpus(rng, 400)
    unescape_inputs = ["&notit;", "&amp", "&ampx", "&amp;amp;", "&CounterClockwiseContourIntegral;", "&" + "a" * 40 + ";"] + entity_corpus(rng, 300)
    out = {
        "generated_by": "test/gpu-function/pipeline/tokenizer/make-text-references.py",
        "ftfy_version": ftfy.__version__,
        "fix_text": [[text, ftfy.fix_text(text)] for text in fix_inputs],
        "html_unescape": [[text, html.unescape(text)] for text in unescape_inputs],
    }
    with open(os.path.join(HERE, "text-references.json"), "w", encoding="utf-8") as f:
        f.write('{"generated_by": ' + json.dumps(out["generated_by"]) + ', "ftfy_version": ' + json.dumps(out["ftfy_version"]) + ",\n")
        for key in ["fix_text", "html_unescape"]:
            f.write(json.dumps(key) + ": [\n" + ",\n".join(json.dumps(pair, ensure_ascii=True) for pair in out[key]) + "\n]" + ("," if key == "fix_text" else "") + "\n")
        f.write("}\n")
    changed = sum(1 for a, b in out["fix_text"] if a != b)
    print(len(out["fix_text"]), "fix_text cases,", changed, "changed;", len(out["html_unescape"]), "html.unescape cases")


if __name__ == "__main__":
    main()
