/* The OSC decoder: one datagram (an OSC message, checked by liblo) becomes
   one event for run(): a protocol message or a MIDI event. */
#ifndef CH_OSC_MAP_H
#define CH_OSC_MAP_H

#include "protocol.h"

#include <lv2/atom/forge.h>

#include <stddef.h>
#include <stdint.h>

/** Longest string argument taken: a file path; names are shorter still. */
#define CH_OSC_PATH_MAX 4095u
#define CH_OSC_NAME_MAX 255u

/** What the decoder needs: URIDs and a forge, set up once. */
typedef struct {
  ChUris         uris;
  LV2_Atom_Forge forge;
} ChOscCodec;

/** Map the URIDs.  Not real-time (calls the host's map). */
void ch_osc_codec_init(ChOscCodec* codec, LV2_URID_Map* map);

typedef enum {
  CH_OSC_REFUSED = 0, /* malformed, unknown or out of range: see `why` */
  CH_OSC_REQUEST = 1, /* a protocol message carrying `seq`: the plugin
                         answers it */
  CH_OSC_MIDI = 2,    /* a MIDI event (note, program): nobody answers it */
} ChOscDecoded;

/**
   Decode the datagram `data` (`size` bytes) into one LV2_Atom_Event at
   frame 0 written to `event` (`capacity` bytes, 8-byte aligned), carrying
   ch:seq `seq` if it is a request.  Its OSC address goes to `address` (at
   most `address_size` bytes, "" if unreadable); on CH_OSC_REFUSED, a
   sentence naming the address goes to `why`.  Changes nothing else.
   Allocates (liblo): OSC thread, never the audio thread.
*/
ChOscDecoded ch_osc_decode(ChOscCodec*     codec,
                           const void*     data,
                           size_t          size,
                           int32_t         seq,
                           LV2_Atom_Event* event,
                           uint32_t        capacity,
                           char*           address,
                           size_t          address_size,
                           char*           why,
                           size_t          why_size);

#endif /* CH_OSC_MAP_H */
