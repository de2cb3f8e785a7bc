"""Analysis of stereo recordings for the end-to-end tests (e2e-jalv.sh,
e2e-ardour.sh), with python3's standard library only: levels, stereo width,
pitch and the detuning of partials.  Import with PYTHONPATH=test."""
import array
import math
import operator
import struct
import sys


def read_f32(path):
    """Interleaved little-endian stereo float32 (a raw recording): L, R."""
    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder != "little":
        a.byteswap()
    return a[0::2], a[1::2]


def read_float_wav(path):
    """A stereo float32 WAV file: rate, L, R (exits if it is not one)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"RIFF" or d[8:12] != b"WAVE":
        sys.exit("%s: not a WAV file" % path)
    i, fmt, data = 12, None, None
    while i + 8 <= len(d):
        cid, size = d[i:i + 4], struct.unpack("<I", d[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", d[i + 8:i + 24])
        elif cid == b"data":
            data = d[i + 8:i + 8 + size]
        i += 8 + size + (size & 1)
    if not fmt or fmt[0] not in (3, 0xFFFE) or fmt[1] != 2 or fmt[5] != 32:
        sys.exit("%s: want stereo float32, got format %s" % (path, fmt))
    a = array.array("f")
    a.frombytes(data)
    if sys.byteorder != "little":
        a.byteswap()
    return fmt[2], a[0::2], a[1::2]


class Stereo:
    """A stereo recording; positions are in frames."""

    def __init__(self, left, right, rate):
        self.L, self.R, self.rate, self.n = left, right, rate, len(left)

    def rms(self, x0, x1):
        """RMS of both channels over [x0, x1)."""
        L, R = self.L, self.R
        x0, x1 = max(0, x0), min(self.n, x1)
        if x1 <= x0:
            return 0.0
        e = sum(map(operator.mul, L[x0:x1], L[x0:x1])) + \
            sum(map(operator.mul, R[x0:x1], R[x0:x1]))
        return math.sqrt(e / (2 * (x1 - x0)))

    def side(self, x0, x1):
        """RMS of L-R over RMS of L+R: 0 for a mono signal."""
        d = [self.L[i] - self.R[i] for i in range(x0, x1)]
        m = [self.L[i] + self.R[i] for i in range(x0, x1)]
        return math.sqrt(sum(map(operator.mul, d, d)) /
                         (sum(map(operator.mul, m, m)) + 1e-30))

    def onset(self, x0, x1, level=1e-3):
        """First frame in [x0, x1) louder than `level`, or -1."""
        for i in range(max(0, x0), min(self.n, x1)):
            if abs(self.L[i]) > level or abs(self.R[i]) > level:
                return i
        return -1

    def pitch(self, x0, length=4096, fmin=40.0, fmax=1500.0):
        """Fundamental of (L+R)/2 from x0, by normalised autocorrelation:
        the shortest lag whose peak is within 10% of the best one."""
        L, R, rate = self.L, self.R, self.rate
        m = [(L[i] + R[i]) * 0.5 for i in range(x0, min(self.n, x0 + 2 * length))]
        if len(m) < 2 * length:
            return 0.0
        seg = m[:length]
        e0 = sum(map(operator.mul, seg, seg))
        lo, hi = int(rate / fmax), int(rate / fmin)
        nacf = [0.0] * (hi + 2)
        for lag in range(lo, hi + 2):
            b = m[lag:lag + length]
            eb = sum(map(operator.mul, b, b))
            nacf[lag] = sum(map(operator.mul, seg, b)) / math.sqrt(e0 * eb + 1e-30)
        best = max(nacf[lo + 1:hi + 1])
        if best < 0.3:
            return 0.0
        for lag in range(lo + 1, hi + 1):
            if nacf[lag] >= 0.9 * best and nacf[lag] >= nacf[lag - 1] and \
                    nacf[lag] >= nacf[lag + 1]:
                y0, y1, y2 = nacf[lag - 1], nacf[lag], nacf[lag + 1]
                d = y0 - 2 * y1 + y2
                return rate / (lag + (0.5 * (y0 - y2) / d if d else 0.0))
        return 0.0

    def median_pitch(self, x0, x1):
        """Median pitch of five windows in [x0, x1)."""
        if x1 - x0 < 8192:
            return 0.0
        step = max(1, (x1 - x0 - 8192) // 4)
        ps = sorted(self.pitch(x) for x in range(x0, x1 - 8192 + 1, step))
        return ps[len(ps) // 2]

    def goertzel(self, x0, nn, f):
        """|DFT| of (L+R)/2 at f over [x0, x0+nn), Hann window."""
        L, R = self.L, self.R
        w, k = 2 * math.pi * f / self.rate, 2 * math.pi / (nn - 1)
        c, s1, s2 = 2 * math.cos(w), 0.0, 0.0
        for i in range(nn):
            s0 = (L[x0 + i] + R[x0 + i]) * (0.25 - 0.25 * math.cos(k * i)) + \
                c * s1 - s2
            s2, s1 = s1, s0
        return math.sqrt(max(0.0, s1 * s1 + s2 * s2 - c * s1 * s2))

    def detuning(self, x0, nn, f0, cents=7.0):
        """Energy `cents` off partials 6 and 8 of f0 over the energy on them,
        over [x0, x0+nn): two oscillators that far apart split each partial
        in two (a large ratio); a single one lies on the partial (small)."""
        on = off = 0.0
        for h in (6, 8):
            f = h * f0
            on += self.goertzel(x0, nn, f)
            off += 0.5 * (self.goertzel(x0, nn, f * 2 ** (cents / 1200)) +
                          self.goertzel(x0, nn, f * 2 ** (-cents / 1200)))
        return off / (on + 1e-9)
