/* The LV2 UI instance shared by its parts: window and events (ui.c),
   drawing (draw.c), gestures (input.c) and messages (link.c). */
#ifndef CH_UI_H
#define CH_UI_H

/* LV2 headers before Xlib: its Bool macro breaks lv2/atom/forge.h. */
#include "../plugin/protocol.h"

#include <lv2/atom/forge.h>
#include <lv2/options/options.h>
#include <lv2/ui/ui.h>
#include <lv2/urid/urid.h>

#include "client.h"
#include "scene.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <cairo/cairo-xlib.h>
#include <cairo/cairo.h>
#include <pango/pangocairo.h>

#include <stdbool.h>
#include <stdint.h>

#define CH_UI_URI "urn:chronus:ui"

/* Window size, logical pixels. */
#define CH_UI_WIDTH      960
#define CH_UI_HEIGHT     600
#define CH_UI_MIN_WIDTH  480
#define CH_UI_MIN_HEIGHT 300
#define CH_HEADER_H      48.0f /* program, generation, level; file, error */

/* Ports of the plugin the UI writes or follows (ttl/chronus.ttl). */
enum {
  CH_UI_PORT_CONTROL = 0,
  CH_UI_PORT_NOTIFY  = 1,
  CH_UI_PORT_PROGRAM = 5,
};

/** What a pointer drag is doing. */
typedef enum {
  CH_DRAG_NONE,
  CH_DRAG_PARAM, /**< changing a parameter */
  CH_DRAG_PAN,   /**< moving the view */
  CH_DRAG_CABLE, /**< a cable from an output, to be plugged into an input */
  CH_DRAG_BOX,   /**< moving a module's box (`selected_box`) */
  CH_DRAG_BAND,  /**< a rubber band choosing boxes (Shift+drag) */
} ChDragKind;

/** An open list (drawn over everything, takes the next click). */
typedef enum {
  CH_MENU_NONE,
  CH_MENU_PROGRAM, /**< the bank's programs */
  CH_MENU_CHOICE,  /**< the choices of parameter `focus` */
  CH_MENU_KINDS,   /**< module kinds to add, filtered as one types */
  CH_MENU_VOICES,  /**< the patch's polyphony: 1 .. CH_MAX_VOICES */
} ChMenuKind;

/** A parameter of a box: where the keyboard acts, or a drag goes. */
typedef struct {
  int box; /**< -1: none */
  int param;
} ChParamRef;

typedef struct {
  /* Host */
  LV2UI_Write_Function write;
  LV2UI_Controller     controller;
  LV2_URID_Map*        map;
  const LV2UI_Resize*  resize;
  ChUris               uris;
  LV2_URID             atom_eventTransfer;
  LV2_Atom_Forge       forge;
  uint8_t              msg[1024];

  /* Window */
  Display*              dpy;
  Window                win;
  Atom                  wm_delete;
  cairo_surface_t*      surface; /* the window */
  cairo_surface_t*      back;    /* drawn here, client side, then shown */
  int                   width;   /* pixels */
  int                   height;
  float                 scale; /* pixels per logical pixel */
  bool                  dirty;
  bool                  focused;
  unsigned long         redraws; /* frames drawn: idle must not add any */
  PangoFontDescription* font;
  PangoFontDescription* font_bold;
  PangoFontDescription* font_small;

  /* What is shown */
  ChClient client;
  ChScene  scene;
  ChView   view;
  bool     fitted;      /* the view was fitted to a patch once */
  bool     level_asked; /* a ch:level request is on its way */
  float    meter;       /* level shown, falling back slowly */

  /* Gestures */
  ChDragKind drag;
  ChParamRef drag_param;
  float      drag_x0; /* window logical coordinates of the press */
  float      drag_y0;
  float      drag_value0;
  float      drag_origin_x0;
  float      drag_origin_y0;
  bool       drag_moved;
  int        cable_box; /* CH_DRAG_CABLE: the output it comes from */
  int        cable_port;
  int        cable_old; /* the cable picked up from an input, or -1 */
  float      cable_x;   /* canvas point its loose end is at */
  float      cable_y;
  ChHit      cable_target; /* the input it would plug into */
  bool       staged;       /* gestures collect edits until Commit or Abort */
  unsigned   pending;      /* edits collected (staged mode) */
  ChModel*   preview;      /* the active patch with the pending edits */
  int32_t    seq;          /* ch:seq of our last message that wants one */
  int32_t    commit_seq;   /* of our commit awaiting its answer, or 0 */
  char       filter[32];   /* CH_MENU_KINDS: what was typed */
  float      add_x;        /* CH_MENU_KINDS: canvas point the module goes */
  float      add_y;
  Time       last_empty_press; /* for double-clicks on the canvas */
  float      last_empty_x;
  float      last_empty_y;
  float      band[4];      /* CH_DRAG_BAND: canvas corners x0 y0 x1 y1 */
  int        selected_box; /* -1: none */
  int        selected_cable;
  ChParamRef focus; /* keyboard focus (drawn) */
  ChHit      hover;
  Time       last_press_time;
  ChParamRef last_press;
  ChMenuKind menu;
  int        menu_hover;

  /* Probe (scope.c) */
  char     probe_module[CH_NAME_MAX + 1]; /* "": no probe */
  char     probe_port[CH_NAME_MAX + 1];
  double   probe_sent; /* monotonic seconds of the last ch:Probe */
  double   cpu_shown;  /* monotonic seconds the CPU shares were last set */
  float    scope[CH_SCOPE_POINTS];
  uint32_t scope_n; /* points of the last frame, 0 before the first */
  float    scope_step;
  unsigned scopes;           /* frames received */
  unsigned activity_waiting; /* idle calls since ch:activity was asked for,
                                0 when its answer is in */
  int   renaming;            /* box whose name is being typed, or -1 */
  char  rename_text[CH_NAME_MAX + 1];
  Time  last_title_press; /* for double-clicks on a box's title */
  int   last_title_box;
  float cable_x0; /* CH_DRAG_CABLE: canvas point of the press */
  float cable_y0;
  /* Names to choose when the patch next shows them (Ctrl+D's copies). */
  char (*want_chosen)[CH_NAME_MAX + 1];
  uint32_t n_want_chosen;
  /* A parameter's value being typed (edit.c). */
  ChParamRef editing; /* box -1: none */
  char       edit_text[24];
  bool       edit_fresh; /* the shown value, replaced by the first key */
  bool       edit_bad;   /* Return found no value in it: drawn red */
  bool       own_edit;   /* the next patch is our gesture's: no refit */
} ChUi;

/* draw.c */
void ch_ui_draw(ChUi* ui);
/** The header's controls: the program selector, staged mode's switch,
    Commit and Abort (while edits wait), the polyphony button. */
typedef enum {
  CH_HEADER_PROGRAM,
  CH_HEADER_STAGED,
  CH_HEADER_COMMIT,
  CH_HEADER_ABORT,
  CH_HEADER_VOICES,
  CH_HEADER_N_SPOTS
} ChHeaderSpot;
/** Rectangle of a header control, of menu item `i`, of the menu. */
ChRect ch_ui_header_rect(ChHeaderSpot spot);
ChRect ch_ui_menu_item_rect(const ChUi* ui, int item);
int    ch_ui_menu_count(const ChUi* ui);

/* input.c */
void ch_ui_button_press(ChUi* ui, const XButtonEvent* ev);
void ch_ui_button_release(ChUi* ui, const XButtonEvent* ev);
void ch_ui_motion(ChUi* ui, const XMotionEvent* ev);
void ch_ui_key(ChUi* ui, const XKeyEvent* ev);
void ch_ui_fit(ChUi* ui);

/* add.c: adding a module from the list of kinds */
void          ch_ui_open_kinds(ChUi* ui, float wx, float wy);
int           ch_ui_kinds_count(const ChUi* ui);
const ChKind* ch_ui_kind_at(const ChUi* ui, int item);
void          ch_ui_add_module(ChUi* ui, const ChKind* kind);
/** Ctrl+D: copies of the chosen boxes (or of the selected one): kinds and
    values, placed where no box is (ch_scene_copy_offset), with the cables
    between them; one gesture. */
void ch_ui_duplicate(ChUi* ui);
/** A key while the list is open; false if it is not the list's. */
bool ch_ui_kinds_key(ChUi* ui, XKeyEvent* ev);

/* link.c: messages to and from the plugin */
void ch_ui_send_get(ChUi* ui);
/** Ask for the output level, unless an answer is still due. */
void ch_ui_ask_level(ChUi* ui);
void ch_ui_send_set(ChUi* ui, ChParamRef ref, float value);
/** A ch:Set of a module not (yet) shown, e.g. a copy before its commit. */
void ch_ui_send_set_named(ChUi*       ui,
                          const char* module,
                          const char* param,
                          float       value);
void ch_ui_send_program(ChUi* ui, int program);
/* Edits: each gesture sends its edits, then ch:Commit. */
void ch_ui_send_connect(ChUi* ui,
                        int   from_box,
                        int   from_port,
                        int   to_box,
                        int   to_port);
/** A ch:Connect of "module:output" to "module:input" (e.g. copies not yet
    shown). */
void ch_ui_send_connect_named(ChUi* ui, const char* from, const char* to);
void ch_ui_send_disconnect(ChUi* ui, int cable);
void ch_ui_send_delete(ChUi* ui, int box);
void ch_ui_send_create(ChUi*       ui,
                       const char* name,
                       const char* kind,
                       float       x,
                       float       y);
void ch_ui_send_commit(ChUi* ui);
/** End of an editing gesture: commit it, or (staged) count it pending. */
void ch_ui_end_gesture(ChUi* ui);
/** Staged mode: commit the pending edits, or throw them away. */
void ch_ui_stage_commit(ChUi* ui);
void ch_ui_stage_abort(ChUi* ui);
/** Switch staged mode (leaving it commits what is pending). */
void ch_ui_toggle_staged(ChUi* ui);
/** ch:Polyphony (the patch plays `voices` notes at once). */
void ch_ui_send_polyphony(ChUi* ui, uint32_t voices);
/** ch:Undo (`undo`) or ch:Redo. */
void ch_ui_send_undo(ChUi* ui, bool undo);
/** Tell the plugin where box `box` now is (ch:Move). */
void ch_ui_send_move(ChUi* ui, int box);
void ch_ui_notify(ChUi* ui, const LV2_Atom* atom, uint32_t size);
/** True if the current error (no commit since) names box `box`. */
bool ch_ui_flagged(const ChUi* ui, int box);
/** Set a parameter in the picture (and the client's model). */
void ch_ui_set_param(ChUi* ui, int box, int param, float value);

/* rename.c: renaming a module by typing over its name */
/** A press on box `box` at canvas `cy`: a double-click on its title starts
    renaming it (true). */
bool ch_ui_rename_press(ChUi* ui, const XButtonEvent* ev, int box, float cy);
/** A key while renaming; false if not renaming. */
bool ch_ui_rename_key(ChUi* ui, XKeyEvent* ev);
/** Stop renaming without a change. */
void ch_ui_rename_cancel(ChUi* ui);
/** ch:Rename `box` to `to` (and the staged preview). */
void ch_ui_send_rename(ChUi* ui, int box, const char* to);

/* edit.c: typing a parameter's value */
/** Open the value field of parameter `param` of box `box`. */
void ch_ui_edit_start(ChUi* ui, int box, int param);
void ch_ui_edit_cancel(ChUi* ui);
/** A key while the field is open; false if it is not. */
bool ch_ui_edit_key(ChUi* ui, XKeyEvent* ev);

/* activity.c: a level dot per module */
/** Idle: ask for the modules' peaks once the last answer is in. */
void ch_ui_activity_idle(ChUi* ui);
/** A ch:Activity piece. */
void ch_ui_on_activity(ChUi* ui, const ChMsg* msg);
void ch_ui_draw_activity(cairo_t* cr, const ChUi* ui, uint32_t box);
/* The box's CPU share as text ("12%") if it is shown: beside a lit dot. */
bool ch_ui_cpu_label(const ChUi* ui, uint32_t box, char* label, size_t size);

/* scope.c: the probe's oscilloscope */
/** Monotonic seconds, for the UI's timers. */
double ch_ui_now(void);
/** Probe output `port` of box `box`; the probed one again stops it. */
void ch_ui_scope_probe(ChUi* ui, int box, int port);
void ch_ui_scope_stop(ChUi* ui);
/** Idle: renew the probe before the plugin's timeout. */
void ch_ui_scope_idle(ChUi* ui);
/** A ch:Scope frame. */
void ch_ui_on_scope(ChUi* ui, const ChMsg* msg);
/** Where the scope panel is (window logical pixels); w = 0 when hidden. */
ChRect ch_ui_scope_rect(const ChUi* ui);
void   ch_ui_draw_scope(cairo_t* cr, PangoLayout* layout, const ChUi* ui);
/** Send a message to the plugin (link.c). */
void ch_ui_send(ChUi* ui, const ChMsg* msg);

#endif /* CH_UI_H */
