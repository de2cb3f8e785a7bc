"""Does a screenshot show the patch drawn?  For the UI end-to-end tests
(e2e-ui-jalv.sh, e2e-ui-ardour.sh), with python3's standard library only.

Usage: python3 test/cables.py SHOT.ppm [MIN_COLOURS]
Prints "COLOURS ORANGE BLUE": the picture's distinct colours and its pixels
near the audio cables' orange and the control cables' blue; exits 0 when
there are more than 150 orange, 100 blue and MIN_COLOURS (default 0)
colours."""
import sys


def read_ppm(path):
    """The pixels of a binary PPM (P6, 8 bits): bytes, RGB after RGB."""
    data = open(path, "rb").read()
    # The header: magic, width, height, maxval, each followed by whitespace.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    return data[pos + 1:]


def near(r, g, b, rgb):
    return (abs(r - (rgb >> 16)) < 40 and abs(g - (rgb >> 8 & 0xff)) < 40
            and abs(b - (rgb & 0xff)) < 40)


def main():
    pix = read_ppm(sys.argv[1])
    min_colours = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    colours, orange, blue = set(), 0, 0
    for i in range(0, len(pix) - 2, 3):
        r, g, b = pix[i], pix[i + 1], pix[i + 2]
        colours.add((r, g, b))
        orange += near(r, g, b, 0xf49a30)
        blue += near(r, g, b, 0x4fb4e7)
    print(len(colours), orange, blue)
    drawn = len(colours) > min_colours and orange > 150 and blue > 100
    sys.exit(0 if drawn else 1)


if __name__ == "__main__":
    main()
