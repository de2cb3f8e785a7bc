/* A look inside the UI for our own test host (test/uihost), offered as
   extension data under CH_UI_PROBE_URI: what it shows and where, so that
   tests can aim synthetic clicks and check the picture against the plugin.
   Not for hosts. */
#ifndef CH_UI_PROBE_H
#define CH_UI_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#define CH_UI_PROBE_URI "urn:chronus:ui#probe"

/** What the UI shows, read in one call. */
typedef struct {
  uint32_t      boxes;      /**< modules shown (0 before the patch came) */
  uint32_t      cables;     /**< cables shown */
  const char*   error;      /**< last error shown ("" for none) */
  const char*   file;       /**< patch file shown */
  int64_t       generation; /**< of the patch shown */
  unsigned      patches;    /**< whole patches received so far */
  unsigned long redraws;    /**< frames drawn so far */
  float         level;      /**< the meter's output level (linear peak) */
  float         zoom;       /**< the view's zoom */
} ChUiSeen;

typedef struct {
  /** What the UI shows now. */
  ChUiSeen (*seen)(void* ui);
  /** Name of box `i`. */
  const char* (*box_name)(void* ui, uint32_t i);
  /**
     Centre of a parameter's row in window pixels; false if the module or
     parameter is not shown or the row is outside the window.
  */
  bool (*param_point)(void*       ui,
                      const char* module,
                      const char* param,
                      int*        x,
                      int*        y);
  /** Value of a parameter as shown; false if not shown. */
  bool (*param_value)(void*       ui,
                      const char* module,
                      const char* param,
                      float*      value);
  /** Centre of item `i` of the open list in window pixels; false if no
      list is open or it has no such item. */
  bool (*menu_point)(void* ui, int i, int* x, int* y);
  /** Window pixels of a port's dot (`output` or input); false if not shown. */
  bool (*port_point)(void*       ui,
                     const char* module,
                     const char* port,
                     bool        output,
                     int*        x,
                     int*        y);
  /** Window pixels of a box's title; false if not shown. */
  bool (*title_point)(void* ui, const char* module, int* x, int* y);
  /** Window pixels of the middle of the newest cable into an input. */
  bool (*cable_point)(void*       ui,
                      const char* module,
                      const char* input,
                      int*        x,
                      int*        y);
  /** True if the module is drawn as named by the current error. */
  bool (*flagged)(void* ui, const char* module);
  /**
     The probe: frames received so far; its last frame (`n` points, 0 if
     none yet, `step` seconds apart) and what it shows ("" when closed).
  */
  unsigned (*scope)(void*         ui,
                    const float** points,
                    uint32_t*     n,
                    float*        step,
                    const char**  module,
                    const char**  port);
  /** A module's activity dot: 0 silent .. 3 loud, or -1 if not shown. */
  int (*activity)(void* ui, const char* module);
  /** The CPU share shown on a module's box, percent; -1 if none shows. */
  int (*cpu)(void* ui, const char* module);
  /** Window pixels of the middle of the scope panel; false if closed. */
  bool (*scope_point)(void* ui, int* x, int* y);
  /** 1 if the module is chosen or selected (drawn amber), 0 if not, -1 if
      not shown. */
  int (*chosen)(void* ui, const char* module);
} ChUiProbe;

/** The UI's probe (ui/probe.c). */
extern const ChUiProbe ch_ui_probe;

#endif /* CH_UI_PROBE_H */
