/* The UI test rig: a real plugin instance (through lilv) and up to two
   instances of the real UI embedded in an X window of ours, wired the way
   hosts wire them, in one thread. */
#ifndef CH_UIHOST_RIG_H
#define CH_UIHOST_RIG_H

#include "../../plugin/protocol.h"

#include <lv2/ui/ui.h>

#include "../../tools/lib/lv2host.h"
#include "../../ui/client.h"
#include "../../ui/probe.h"

#include <X11/Xlib.h>

#include <stdbool.h>
#include <stdint.h>

#define RIG_BLOCK    256u
#define RIG_SEQ_SIZE 65536u
#define RIG_N_PORTS  15u
#define RIG_MAX_UIS  2

typedef struct {
  LV2UI_Handle                handle;
  Window                      widget;
  const LV2UI_Idle_Interface* idle;
  const ChUiProbe*            probe;
  int                         asked_w; /* from ui:resize */
  int                         asked_h;
} RigUi;

typedef struct {
  ChHost   host;
  ChUris   uris;
  LV2_URID atom_Chunk;
  LV2_URID eventTransfer;
  float    ctl[RIG_N_PORTS];
  float    out[2][RIG_BLOCK];
  uint64_t control[RIG_SEQ_SIZE / 8]; /* atom:Sequence, 8-byte aligned */
  uint64_t notify[RIG_SEQ_SIZE / 8];

  void*                   ui_lib;
  const LV2UI_Descriptor* ui_desc;
  char*                   ui_bundle;
  RigUi                   ui[RIG_MAX_UIS];

  Display* dpy;
  Window   top;
  int      width;
  int      height;
  float    scale; /* ui:scaleFactor given to the UIs (0: none) */

  ChClient seen; /* the plugin's patch as its answers to us tell it */
  unsigned ui_writes;
  unsigned pieces; /* ch:Patch pieces seen */
  unsigned echoes; /* ch:Set echoes seen */
} Rig;

/** Plugin, window and UI library; false (reason on stderr) on failure. */
bool rig_open(Rig* rig, const char* bundle);
void rig_close(Rig* rig);

/** Open UI slot `i` embedded in our window; false on failure. */
bool rig_ui_open(Rig* rig, int i);
void rig_ui_close(Rig* rig, int i);

/** One cycle: run the plugin, hand its answers to the UIs, idle them. */
void rig_cycle(Rig* rig);

/** Set a control port as a host does, telling the UIs. */
void rig_set_control(Rig* rig, uint32_t port, float value);

/** Send 3 bytes of MIDI to the plugin (next cycle). */
void rig_midi(Rig* rig, uint8_t status, uint8_t data1, uint8_t data2);

/** Send one of our own messages to the plugin (next cycle). */
void rig_send(Rig* rig, const ChMsg* msg);

/** Send ch:Load of the Turtle `text` (NULL: none) and ch:Commit. */
void rig_load_commit(Rig* rig, const char* text);

/**
   Ask the plugin for its patch and run until the answer is whole; then
   read a parameter of it.  False if it did not come or has no such value.
*/
bool rig_plugin_param(Rig*        rig,
                      const char* module,
                      const char* param,
                      float*      value);

/** Resize our window and the embedded UIs, as a host does. */
void rig_resize(Rig* rig, int width, int height);

/** Save what our window shows as a PNG. */
bool rig_screenshot(Rig* rig, const char* path);

/**
   Pixels of the window close to colour `rgb` (0xRRGGBB) within `tol` per
   channel, in the rectangle x, y, w, h (-1 w: all).
*/
unsigned long rig_count_colour(Rig* rig, uint32_t rgb, int tol);

/* Synthetic input (XTest), in window pixels. */
void rig_move(Rig* rig, int x, int y);
void rig_button(Rig* rig, unsigned button, bool down);
void rig_key(Rig* rig, const char* keysym, bool shift);
/** Hold (or let go of) Shift. */
void rig_shift(Rig* rig, bool down);
/** A key with Control held (and Shift if `shift`). */
void rig_ctrl_key(Rig* rig, const char* keysym, bool shift);

#endif /* CH_UIHOST_RIG_H */
