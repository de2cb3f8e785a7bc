/* wav: a float WAV writer with the header every reader accepts. */
#ifndef CH_TOOLS_WAV_H
#define CH_TOOLS_WAV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
   A 32-bit float WAV file: WAVE_FORMAT_IEEE_FLOAT with the 18-byte fmt
   chunk (cbSize 0) and the fact chunk that non-PCM formats need.
   libsndfile writes a 16-byte fmt chunk for float, and its WAVEX header
   makes sox 14.4 warn too ("wave header missing extended part of fmt
   chunk"); this one reads cleanly in sox, libsndfile and ffmpeg.
   One thread at a time.
*/
typedef struct {
  FILE*    file;
  uint32_t rate;
  uint32_t channels;
  uint64_t frames;
} ChWav;

/* Creates `path` (replacing it) for `channels` channels at `rate` Hz;
   false with errno set on failure. */
bool ch_wav_open(ChWav*      wav,
                 const char* path,
                 uint32_t    rate,
                 uint32_t    channels);

/* Appends `frames` interleaved frames; false on a write error. */
bool ch_wav_write(ChWav* wav, const float* interleaved, uint32_t frames);

/* Writes the final sizes and closes; false on an error (or a file over
   4 GB, which WAV cannot describe). */
bool ch_wav_close(ChWav* wav);

#endif /* CH_TOOLS_WAV_H */
