/* libFuzzer target: any datagram through the OSC decoder; what it accepts
   must read back as the protocol message or MIDI event it claims to be. */
#include "../../plugin/osc.h"
#include "../../plugin/osc_map.h"
#include "../../tools/lib/lv2host.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The process's URID map. */
static ChHostUrids urids = CH_HOST_URIDS_INIT;

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  static ChOscCodec codec;
  static int        ready;
  if (!ready) {
    LV2_URID_Map map = { &urids, ch_urids_map };
    ch_osc_codec_init(&codec, &map);
    ready = 1;
  }

  static uint64_t    event[CH_OSC_RECORD_MAX / 8u];
  char               address[256];
  char               why[512];
  const ChOscDecoded got =
    ch_osc_decode(&codec, data, size, 0x7F000001, (LV2_Atom_Event*)event,
                  sizeof(event), address, sizeof(address), why, sizeof(why));
  const LV2_Atom_Event* const ev = (const LV2_Atom_Event*)event;
  if (got == CH_OSC_REFUSED) {
    if (!memchr(why, '\0', sizeof(why)) || !why[0]) {
      abort(); /* every refusal says why */
    }
  } else if (got == CH_OSC_MIDI) {
    if (ev->body.type != codec.uris.midi_Event || ev->body.size > 3) {
      abort();
    }
  } else {
    ChMsg      msg;
    ChMsgFault fault;
    if (ch_msg_read(&codec.uris, &ev->body,
                    (uint32_t)(sizeof(event) - sizeof(int64_t)), &msg,
                    &fault) != CH_PROTO_OK ||
        msg.kind == CH_MSG_NONE || !msg.has_seq || msg.seq != 0x7F000001) {
      fprintf(stderr, "accepted %s but wrote an unreadable message\n", address);
      abort();
    }
  }
  return 0;
}
