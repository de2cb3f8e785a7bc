/* The UI's picture of a patch, without X: boxes, ports, cables and
   parameter rows laid out on a canvas, hit testing and value mapping. */
#ifndef CH_UI_SCENE_H
#define CH_UI_SCENE_H

#include "kind.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Box geometry, in logical canvas units (scaled by zoom and ui:scaleFactor
   when drawn). */
#define CH_BOX_W      168.0f
#define CH_BOX_HEAD   34.0f /* name and kind */
#define CH_PORT_ROW   14.0f
#define CH_PARAM_ROW  17.0f
#define CH_BOX_PAD    5.0f
#define CH_COL_GAP    84.0f /* between layers of the automatic layout */
#define CH_ROW_GAP    22.0f /* between boxes of one layer */
#define CH_PORT_REACH 9.0f  /* how far from a port's dot a click still hits */

typedef struct {
  float x;
  float y;
  float w;
  float h;
} ChRect;

/** One module's box. */
typedef struct {
  uint32_t      module; /**< index in the model */
  const ChKind* kind;
  char          name[CH_NAME_MAX + 1];
  ChRect        rect;
  bool          voiced;   /**< copied per voice (shown with the voice count) */
  bool          placed;   /**< its position came from the patch */
  bool          chosen;   /**< in the UI's rubber-band selection */
  uint8_t       activity; /**< its outputs' level: 0 silent .. 3 loud */
  uint8_t       cpu;      /**< share of the graph's time shown: 1 + %, or 0 */
  uint16_t      cpu_n;    /**< shares received since, summed in cpu_sum */
  float         cpu_sum;
  float         params[CH_MAX_PARAMS];
} ChBox;

/** One cable: a link of the model, drawn from an output to an input. */
typedef struct {
  uint32_t from_box;
  uint32_t from_port;
  uint32_t to_box;
  uint32_t to_port;
  ChSignal signal; /**< of the source port */
  uint32_t fan_in; /**< cables meeting at this input (>= 1) */
} ChCable;

/** The whole picture.  Plain data; boxes are in model order. */
typedef struct {
  ChBox*   boxes;
  uint32_t n_boxes;
  ChCable* cables;
  uint32_t n_cables;
  uint32_t polyphony;
  ChRect   bounds; /**< of every box, ports included */
} ChScene;

/**
   Build the picture of `model`: modules with positions keep them, the rest
   are laid out automatically (ch_scene_layout).  `scene` is reset first;
   returns false if out of memory (leaving it empty).
*/
bool ch_scene_build(ChScene* scene, const ChModel* model);

/** Free what the scene holds and empty it. */
void ch_scene_clear(ChScene* scene);

/** Height of a box of `kind`. */
float ch_box_height(const ChKind* kind);

/**
   Lay out boxes left to right along the signal flow: each box one column
   right of the furthest of its sources (links into feedback kinds, which
   may close cycles, do not count), boxes within a column ordered by the
   mean position of their neighbours to avoid crossings, and placed near
   the height of their sources.  Only boxes with `placed` false move; they
   go below any placed ones.
*/
void ch_scene_layout(ChScene* scene);

/** Recompute `bounds` after boxes moved. */
void ch_scene_update_bounds(ChScene* scene);

/** Number of cables that cross each other (for tests of the layout). */
uint32_t ch_scene_crossings(const ChScene* scene);

/** Canvas point of input `port` (left edge) or output `port` (right). */
void ch_box_port_pos(const ChBox* box,
                     bool         output,
                     uint32_t     port,
                     float*       x,
                     float*       y);

/** Rectangle of parameter row `param` of a box. */
ChRect ch_box_param_rect(const ChBox* box, uint32_t param);

typedef enum {
  CH_HIT_NONE,
  CH_HIT_BOX,    /**< the box itself (its title or body) */
  CH_HIT_PARAM,  /**< a parameter row: `index` is the parameter */
  CH_HIT_INPUT,  /**< an input port: `index` */
  CH_HIT_OUTPUT, /**< an output port: `index` */
} ChHitKind;

typedef struct {
  ChHitKind kind;
  int       box; /**< -1 for none */
  int       index;
} ChHit;

/** What is at canvas point (`x`, `y`); boxes drawn later win. */
ChHit ch_scene_hit(const ChScene* scene, float x, float y);

/** A cable's ends on the canvas: its output's dot and its input's. */
typedef struct {
  float x0;
  float y0;
  float x1;
  float y1;
} ChCableEnds;

ChCableEnds ch_cable_ends(const ChScene* scene, const ChCable* c);

/** Canvas point at `t` (0..1) along cable `c`'s curve, as drawn. */
void ch_cable_point(const ChScene* scene,
                    const ChCable* c,
                    float          t,
                    float*         x,
                    float*         y);

/** The cable passing within `reach` of (`x`, `y`), nearest first; -1. */
int ch_scene_hit_cable(const ChScene* scene, float x, float y, float reach);

/**
   True if `text` (an error message) names module `name` as a whole word:
   not as part of a longer name ("osc" is not named by "osc2").
*/
bool ch_text_names(const char* text, const char* name);

/** Index of the box of the module called `name`, or -1. */
int ch_scene_find(const ChScene* scene, const char* name);

/* ---- The chosen boxes (select.c) ------------------------------------------
 */

/** Number of boxes with `chosen` set. */
uint32_t ch_scene_n_chosen(const ChScene* scene);

/** Move every chosen box by (`dx`, `dy`) canvas units. */
void ch_scene_move_chosen(ChScene* scene, float dx, float dy);

/**
   Where copies of the chosen boxes go, as an offset from them: the nearest
   place (in steps of 10 units) where no copy comes near a box or hides a
   cable, inside
   `visible` (the canvas area in view) if there is one; else below every
   box.
*/
void ch_scene_copy_offset(const ChScene* scene,
                          ChRect         visible,
                          float*         dx,
                          float*         dy);

/** True if cable `c` runs between two chosen boxes: a copy of the choice
    copies it too, between the copies. */
bool ch_cable_inner(const ChScene* scene, const ChCable* c);

/**
   A name for a new module of `kind`: the kind's name and the first number
   (from 1) that is neither a box of `scene` nor one of the `n_taken` names
   of `taken` (the copies named so far in the same gesture).
*/
void ch_scene_free_name(const ChScene* scene,
                        const ChKind*  kind,
                        const char (*taken)[CH_NAME_MAX + 1],
                        uint32_t n_taken,
                        char     name[CH_NAME_MAX + 1]);

/**
   Names for copies of the chosen boxes, in box order: names[i] for the
   i-th chosen box.  Returns how many (at most `max`).
*/
uint32_t ch_scene_copy_names(const ChScene* scene,
                             char (*names)[CH_NAME_MAX + 1],
                             uint32_t max);

/* ---- Parameter values ---------------------------------------------------- */

/** True if the parameter is shown and dragged on a logarithmic scale. */
bool ch_param_is_log(const ChParamInfo* info);

/** Number of choices (0 if it is not a list). */
uint32_t ch_param_n_choices(const ChParamInfo* info);

/** Position 0..1 of `value` on the parameter's control. */
float ch_param_to_norm(const ChParamInfo* info, float value);

/** Value at position `norm` (clamped to 0..1); choices snap to whole ones. */
float ch_param_from_norm(const ChParamInfo* info, float norm);

/** Control travel of one logical pixel of drag, and the fine (Shift) one. */
#define CH_DRAG_PER_PIXEL 0.005f
#define CH_FINE_FACTOR    0.1f

/**
   The value after dragging by `pixels` (right or up is positive) from
   `start`; `fine` moves ten times slower.  Choices move one step per 24
   pixels.
*/
float ch_param_drag(const ChParamInfo* info,
                    float              start,
                    float              pixels,
                    bool               fine);

/**
   The value after `steps` scroll steps (positive = up) from `value`: one
   hundredth of the control's travel each (a thousandth if `fine`); choices
   step by one.
*/
float ch_param_step(const ChParamInfo* info, float value, int steps, bool fine);

/**
   `value` for humans, with its unit: "1.20 kHz", "350 ms", "saw",
   "-7.0 ct".  Returns `buf`.
*/
const char* ch_param_format(const ChParamInfo* info,
                            float              value,
                            char*              buf,
                            size_t             size);

/**
   The value a human typed for the parameter: a number, optionally with
   the parameter's unit or a multiple of it ("1.2 kHz", "1.2k", "350 ms"),
   or for a list a choice's name (or its number); clamped to the range.
   False if `text` is none of these.
*/
bool ch_param_parse(const ChParamInfo* info, const char* text, float* value);

/* ---- View: canvas to window ---------------------------------------------- */

/** Pan and zoom: window = (canvas - origin) * zoom + (left, top). */
typedef struct {
  float origin_x;
  float origin_y;
  float zoom;
  float left; /**< window area the canvas is drawn in, logical units */
  float top;
  float width;
  float height;
} ChView;

#define CH_ZOOM_MIN 0.25f
#define CH_ZOOM_MAX 3.0f

void ch_view_to_canvas(const ChView* view,
                       float         wx,
                       float         wy,
                       float*        cx,
                       float*        cy);
void ch_view_to_window(const ChView* view,
                       float         cx,
                       float         cy,
                       float*        wx,
                       float*        wy);

/** Zoom by `factor` keeping window point (`wx`, `wy`) still. */
void ch_view_zoom_at(ChView* view, float factor, float wx, float wy);

/** Show all of `bounds` (with a margin), at most at zoom 1.5. */
void ch_view_fit(ChView* view, ChRect bounds);

#endif /* CH_UI_SCENE_H */
