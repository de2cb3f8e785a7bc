/* wav: writes 32-bit float WAV files with a standard 18-byte fmt chunk. */
#include "wav.h"

#include <string.h>

#define HEADER_SIZE 58u /* RIFF 12 + fmt 8+18 + fact 8+4 + data 8 */
#define FLOAT_TAG   3u  /* WAVE_FORMAT_IEEE_FLOAT */

static void
put16(uint8_t* const p, const uint32_t v)
{
  p[0] = (uint8_t)(v & 0xFFu);
  p[1] = (uint8_t)((v >> 8) & 0xFFu);
}

static void
put32(uint8_t* const p, const uint32_t v)
{
  put16(p, v & 0xFFFFu);
  put16(p + 2, v >> 16);
}

/* The header for `frames` frames (the sizes are patched in at close). */
static void
header(uint8_t        h[HEADER_SIZE],
       const uint32_t rate,
       const uint32_t channels,
       const uint32_t frames)
{
  const uint32_t data = frames * channels * 4u;
  memcpy(h, "RIFF", 4);
  put32(h + 4, HEADER_SIZE - 8u + data);
  memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 18u);
  put16(h + 20, FLOAT_TAG);
  put16(h + 22, channels);
  put32(h + 24, rate);
  put32(h + 28, rate * channels * 4u); /* bytes per second */
  put16(h + 32, channels * 4u);        /* bytes per frame */
  put16(h + 34, 32u);                  /* bits per sample */
  put16(h + 36, 0u);                   /* cbSize: no extension */
  memcpy(h + 38, "fact", 4);
  put32(h + 42, 4u);
  put32(h + 46, frames);
  memcpy(h + 50, "data", 4);
  put32(h + 54, data);
}

bool
ch_wav_open(ChWav* const      wav,
            const char* const path,
            const uint32_t    rate,
            const uint32_t    channels)
{
  uint8_t h[HEADER_SIZE];
  header(h, rate, channels, 0);
  wav->rate     = rate;
  wav->channels = channels;
  wav->frames   = 0;
  wav->file     = fopen(path, "wb");
  if (!wav->file) {
    return false;
  }
  if (fwrite(h, 1, sizeof(h), wav->file) != sizeof(h)) {
    fclose(wav->file);
    wav->file = NULL;
    return false;
  }
  return true;
}

bool
ch_wav_write(ChWav* const wav, const float* const interleaved, uint32_t frames)
{
  uint8_t        buf[4096];
  const uint32_t n = frames * wav->channels;
  for (uint32_t i = 0; i < n;) {
    uint32_t k = 0;
    for (; k < sizeof(buf) / 4u && i < n; ++k, ++i) {
      uint32_t bits = 0;
      memcpy(&bits, &interleaved[i], 4);
      put32(buf + 4u * k, bits); /* little-endian whatever the machine */
    }
    if (fwrite(buf, 4, k, wav->file) != k) {
      return false;
    }
  }
  wav->frames += frames;
  return true;
}

bool
ch_wav_close(ChWav* const wav)
{
  FILE* const file = wav->file;
  wav->file        = NULL;
  if (!file) {
    return false;
  }
  const uint64_t bytes = wav->frames * wav->channels * 4u;
  bool           ok    = bytes <= UINT32_MAX - HEADER_SIZE;
  uint8_t        h[HEADER_SIZE];
  header(h, wav->rate, wav->channels, (uint32_t)wav->frames);
  ok = ok && !fseek(file, 0, SEEK_SET) &&
       fwrite(h, 1, sizeof(h), file) == sizeof(h);
  return !fclose(file) && ok;
}
