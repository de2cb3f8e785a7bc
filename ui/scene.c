/* The UI's picture of a patch: boxes and cables from the model, the
   automatic layout, hit testing, parameter value mapping and the view. */
#include "scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t
max_u(const uint32_t a, const uint32_t b)
{
  return a > b ? a : b;
}

static float
clampf(const float x, const float lo, const float hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

float
ch_box_height(const ChKind* const kind)
{
  const uint32_t ports = max_u(kind->n_inputs, kind->n_outputs);
  return CH_BOX_HEAD + (float)ports * CH_PORT_ROW + CH_BOX_PAD +
         (float)kind->n_params * CH_PARAM_ROW + CH_BOX_PAD;
}

void
ch_box_port_pos(const ChBox* const box,
                const bool         output,
                const uint32_t     port,
                float* const       x,
                float* const       y)
{
  *x = output ? box->rect.x + box->rect.w : box->rect.x;
  *y = box->rect.y + CH_BOX_HEAD + ((float)port + 0.5f) * CH_PORT_ROW;
}

ChRect
ch_box_param_rect(const ChBox* const box, const uint32_t param)
{
  const uint32_t ports = max_u(box->kind->n_inputs, box->kind->n_outputs);
  const ChRect   r     = {
          box->rect.x + CH_BOX_PAD,
          box->rect.y + CH_BOX_HEAD + (float)ports * CH_PORT_ROW + CH_BOX_PAD +
            (float)param * CH_PARAM_ROW,
          box->rect.w - 2.0f * CH_BOX_PAD,
          CH_PARAM_ROW - 3.0f,
  };
  return r;
}

void
ch_scene_clear(ChScene* const scene)
{
  free(scene->boxes);
  free(scene->cables);
  memset(scene, 0, sizeof(*scene));
}

void
ch_scene_update_bounds(ChScene* const scene)
{
  ChRect b = { 0.0f, 0.0f, 0.0f, 0.0f };
  for (uint32_t i = 0; i < scene->n_boxes; ++i) {
    const ChRect r = scene->boxes[i].rect;
    if (!i) {
      b = r;
      continue;
    }
    const float x1 = fmaxf(b.x + b.w, r.x + r.w);
    const float y1 = fmaxf(b.y + b.h, r.y + r.h);
    b.x            = fminf(b.x, r.x);
    b.y            = fminf(b.y, r.y);
    b.w            = x1 - b.x;
    b.h            = y1 - b.y;
  }
  /* Port dots stick out of the boxes. */
  b.x -= CH_PORT_REACH;
  b.w += 2.0f * CH_PORT_REACH;
  scene->bounds = b;
}

static void
build_cables(ChScene* const scene, const ChModel* const model)
{
  for (uint32_t l = 0; l < scene->n_cables; ++l) {
    const ChLink* const link = ch_model_link(model, l);
    ChCable* const      c    = &scene->cables[l];
    c->from_box              = link->from_module;
    c->from_port             = link->from_port;
    c->to_box                = link->to_module;
    c->to_port               = link->to_port;
    c->signal =
      scene->boxes[link->from_module].kind->outputs[link->from_port].signal;
    c->fan_in = 0;
    for (uint32_t k = 0; k < scene->n_cables; ++k) {
      const ChLink* const other = ch_model_link(model, k);
      c->fan_in +=
        other->to_module == link->to_module && other->to_port == link->to_port;
    }
  }
}

bool
ch_scene_build(ChScene* const scene, const ChModel* const model)
{
  ch_scene_clear(scene);
  const uint32_t n  = ch_model_n_modules(model);
  const uint32_t nl = ch_model_n_links(model);
  scene->boxes      = (ChBox*)calloc(n + 1u, sizeof(ChBox));
  scene->cables     = (ChCable*)calloc(nl + 1u, sizeof(ChCable));
  uint8_t* voiced   = (uint8_t*)calloc(n + 1u, 1);
  if (!scene->boxes || !scene->cables || !voiced) {
    free(voiced);
    ch_scene_clear(scene);
    return false;
  }
  ch_model_mark_voiced(model, voiced);
  scene->n_boxes   = n;
  scene->n_cables  = nl;
  scene->polyphony = ch_model_polyphony(model);
  for (uint32_t m = 0; m < n; ++m) {
    ChBox* const box = &scene->boxes[m];
    box->module      = m;
    box->kind        = ch_model_module_kind(model, m);
    snprintf(box->name, sizeof(box->name), "%s",
             ch_model_module_name(model, m));
    box->placed =
      ch_model_module_position(model, m, &box->rect.x, &box->rect.y);
    box->rect.w = CH_BOX_W;
    box->rect.h = ch_box_height(box->kind);
    box->voiced = voiced[m] != 0;
    memcpy(box->params, ch_model_module_params(model, m),
           box->kind->n_params * sizeof(float));
  }
  free(voiced);
  build_cables(scene, model);
  ch_scene_layout(scene);
  return true;
}

/* ---- Layout ---------------------------------------------------------------
 */

/* Cables that order the layout: not those into feedback kinds, whose
   inputs are read a block late and may close cycles. */
static bool
orders(const ChScene* const scene, const ChCable* const c)
{
  return !scene->boxes[c->to_box].kind->capture && c->from_box != c->to_box;
}

/* Column of each box: right of its furthest source, and sources that feed
   only later columns moved next to what they feed. */
static uint32_t
assign_layers(const ChScene* const scene, uint32_t* const layer)
{
  const uint32_t n       = scene->n_boxes;
  bool           changed = true;
  for (uint32_t pass = 0; pass < n && changed; ++pass) {
    changed = false;
    for (uint32_t l = 0; l < scene->n_cables; ++l) {
      const ChCable* const c = &scene->cables[l];
      if (orders(scene, c) && layer[c->to_box] < layer[c->from_box] + 1u &&
          layer[c->from_box] + 1u < n) {
        layer[c->to_box] = layer[c->from_box] + 1u;
        changed          = true;
      }
    }
  }
  for (uint32_t pass = 0; pass < 2; ++pass) {
    for (uint32_t m = 0; m < n; ++m) {
      uint32_t next = UINT32_MAX;
      bool     fed  = false; /* only true sources move: a fed module would
                                only trade a long output for a long input */
      for (uint32_t l = 0; l < scene->n_cables; ++l) {
        const ChCable* const c = &scene->cables[l];
        fed                    = fed || (c->to_box == m && orders(scene, c));
        if (c->from_box == m && orders(scene, c) && layer[c->to_box] < next) {
          next = layer[c->to_box];
        }
      }
      if (!fed && next != UINT32_MAX && next > layer[m] + 1u) {
        layer[m] = next - 1u;
      }
    }
  }
  uint32_t n_layers = 0;
  for (uint32_t m = 0; m < n; ++m) {
    n_layers = max_u(n_layers, layer[m] + 1u);
  }
  return n_layers;
}

/* Vertical offset of port `port` from the top of a box. */
static float
port_offset(const uint32_t port)
{
  return CH_BOX_HEAD + ((float)port + 0.5f) * CH_PORT_ROW;
}

/* Where box `m` would like its top: level with the ports it is linked to
   in earlier columns (or, for a source in a later sweep, later columns),
   port against port; NAN if it has no such neighbours. */
static float
wanted_top(const ChScene* const  scene,
           const uint32_t* const layer,
           const uint32_t        m,
           const bool            from_later)
{
  float    sum = 0.0f;
  uint32_t k   = 0;
  for (uint32_t l = 0; l < scene->n_cables; ++l) {
    const ChCable* const c = &scene->cables[l];
    if (!from_later && c->to_box == m && layer[c->from_box] < layer[m]) {
      sum += scene->boxes[c->from_box].rect.y + port_offset(c->from_port) -
             port_offset(c->to_port);
      ++k;
    } else if (from_later && c->from_box == m && layer[c->to_box] > layer[m]) {
      sum += scene->boxes[c->to_box].rect.y + port_offset(c->to_port) -
             port_offset(c->from_port);
      ++k;
    }
  }
  return k ? sum / (float)k : NAN;
}

/* Sort one column by the wanted tops (stable: boxes without wishes keep
   their place) and stack it without overlaps. */
static void
place_column(ChScene* const        scene,
             const uint32_t* const layer,
             uint32_t* const       members,
             const uint32_t        count,
             float* const          want,
             const bool            sources_too)
{
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t m = members[i];
    want[m]          = wanted_top(scene, layer, m, false);
    if (isnan(want[m]) && sources_too) {
      want[m] = wanted_top(scene, layer, m, true);
    }
    if (isnan(want[m])) {
      want[m] = scene->boxes[m].rect.y;
    }
  }
  for (uint32_t i = 1; i < count; ++i) { /* insertion sort: short columns */
    const uint32_t m = members[i];
    uint32_t       j = i;
    for (; j > 0 && want[members[j - 1]] > want[m]; --j) {
      members[j] = members[j - 1];
    }
    members[j] = m;
  }
  float bottom = -INFINITY;
  for (uint32_t i = 0; i < count; ++i) {
    ChBox* const box = &scene->boxes[members[i]];
    box->rect.y      = fmaxf(want[members[i]], bottom);
    bottom           = box->rect.y + box->rect.h + CH_ROW_GAP;
  }
}

static bool
segments_cross(const float* const a, const float* const b)
{
  /* a = x0 y0 x1 y1, b likewise; proper crossings only (shared ends are
     fan-in or fan-out, not crossings). */
  const float d1 =
    (b[2] - b[0]) * (a[1] - b[1]) - (b[3] - b[1]) * (a[0] - b[0]);
  const float d2 =
    (b[2] - b[0]) * (a[3] - b[1]) - (b[3] - b[1]) * (a[2] - b[0]);
  const float d3 =
    (a[2] - a[0]) * (b[1] - a[1]) - (a[3] - a[1]) * (b[0] - a[0]);
  const float d4 =
    (a[2] - a[0]) * (b[3] - a[1]) - (a[3] - a[1]) * (b[2] - a[0]);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) &&
         ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

ChCableEnds
ch_cable_ends(const ChScene* const scene, const ChCable* const c)
{
  ChCableEnds e = { 0.0f, 0.0f, 0.0f, 0.0f };
  ch_box_port_pos(&scene->boxes[c->from_box], true, c->from_port, &e.x0, &e.y0);
  ch_box_port_pos(&scene->boxes[c->to_box], false, c->to_port, &e.x1, &e.y1);
  return e;
}

/* Cable `c` as a straight segment from its output to its input. */
static void
cable_segment(const ChScene* const scene, const ChCable* const c, float seg[4])
{
  const ChCableEnds e = ch_cable_ends(scene, c);
  seg[0]              = e.x0;
  seg[1]              = e.y0;
  seg[2]              = e.x1;
  seg[3]              = e.y1;
}

static bool
touches(const ChCable* const c, const uint32_t a, const uint32_t b)
{
  return c->from_box == a || c->to_box == a || c->from_box == b ||
         c->to_box == b;
}

/* Crossings of the cables of boxes `a` and `b` with any other cable. */
static uint32_t
local_crossings(const ChScene* const scene, const uint32_t a, const uint32_t b)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < scene->n_cables; ++i) {
    const ChCable* const ci = &scene->cables[i];
    if (!touches(ci, a, b)) {
      continue;
    }
    float si[4];
    cable_segment(scene, ci, si);
    for (uint32_t j = 0; j < scene->n_cables; ++j) {
      const ChCable* const cj = &scene->cables[j];
      if (j == i || (touches(cj, a, b) && j < i)) {
        continue; /* each pair once */
      }
      float sj[4];
      cable_segment(scene, cj, sj);
      n += segments_cross(si, sj);
    }
  }
  return n;
}

/* Trade the places of neighbours `a` (above) and `b` in a column, keeping
   the span they cover. */
static void
swap_places(ChScene* const scene, const uint32_t a, const uint32_t b)
{
  ChRect* const ra     = &scene->boxes[a].rect;
  ChRect* const rb     = &scene->boxes[b].rect;
  const float   top    = ra->y;
  const float   bottom = rb->y + rb->h;
  rb->y                = top;
  ra->y                = fmaxf(bottom - ra->h, top + rb->h + CH_ROW_GAP);
}

/* Swap neighbours in a column while that removes crossings (small
   patches only: each try costs a pass over the cables). */
static void
untangle(ChScene* const        scene,
         uint32_t* const       columns,
         const uint32_t* const start,
         const uint32_t        n_layers)
{
  if (scene->n_cables > 600u) {
    return;
  }
  for (uint32_t pass = 0; pass < 4; ++pass) {
    bool better = false;
    for (uint32_t c = 0; c < n_layers; ++c) {
      for (uint32_t i = start[c]; i + 1u < start[c + 1]; ++i) {
        const uint32_t a      = columns[i];
        const uint32_t b      = columns[i + 1u];
        const ChRect   old_a  = scene->boxes[a].rect;
        const ChRect   old_b  = scene->boxes[b].rect;
        const uint32_t before = local_crossings(scene, a, b);
        swap_places(scene, a, b);
        if (local_crossings(scene, a, b) < before) {
          columns[i]      = b;
          columns[i + 1u] = a;
          better          = true;
        } else {
          scene->boxes[a].rect = old_a;
          scene->boxes[b].rect = old_b;
        }
      }
    }
    if (!better) {
      break;
    }
  }
}

static void
layout_columns(ChScene* const        scene,
               const uint32_t* const layer,
               uint32_t* const       columns,
               const uint32_t* const start,
               const uint32_t        n_layers,
               float* const          want)
{
  /* Start stacked in model order, then align along the flow; later sweeps
     also pull sources towards what they feed. */
  for (uint32_t c = 0; c < n_layers; ++c) {
    float y = 0.0f;
    for (uint32_t i = start[c]; i < start[c + 1]; ++i) {
      ChBox* const box = &scene->boxes[columns[i]];
      box->rect.x      = (float)c * (CH_BOX_W + CH_COL_GAP);
      box->rect.y      = y;
      y += box->rect.h + CH_ROW_GAP;
    }
  }
  for (uint32_t sweep = 0; sweep < 3; ++sweep) {
    for (uint32_t c = 0; c < n_layers; ++c) {
      place_column(scene, layer, columns + start[c], start[c + 1] - start[c],
                   want, sweep > 0);
    }
  }
  /* Top at 0. */
  float top = INFINITY;
  for (uint32_t m = 0; m < scene->n_boxes; ++m) {
    top = fminf(top, scene->boxes[m].rect.y);
  }
  for (uint32_t m = 0; m < scene->n_boxes; ++m) {
    scene->boxes[m].rect.y -= top;
  }
}

/* Move the laid-out (unplaced) boxes below the placed ones. */
static void
shift_below_placed(ChScene* const scene)
{
  bool  any    = false;
  float left   = 0.0f;
  float bottom = 0.0f;
  for (uint32_t m = 0; m < scene->n_boxes; ++m) {
    const ChBox* const b = &scene->boxes[m];
    if (b->placed) {
      left = any ? fminf(left, b->rect.x) : b->rect.x;
      bottom =
        any ? fmaxf(bottom, b->rect.y + b->rect.h) : b->rect.y + b->rect.h;
      any = true;
    }
  }
  for (uint32_t m = 0; any && m < scene->n_boxes; ++m) {
    ChBox* const b = &scene->boxes[m];
    if (!b->placed) {
      b->rect.x += left;
      b->rect.y += bottom + 2.0f * CH_ROW_GAP;
    }
  }
}

void
ch_scene_layout(ChScene* const scene)
{
  const uint32_t n      = scene->n_boxes;
  uint32_t*      layer  = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  uint32_t*      start  = (uint32_t*)calloc(n + 2u, sizeof(uint32_t));
  uint32_t*      column = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  float*         want   = (float*)calloc(n + 1u, sizeof(float));
  ChBox*         saved  = (ChBox*)calloc(n + 1u, sizeof(ChBox));
  if (layer && start && column && want && saved && n) {
    memcpy(saved, scene->boxes, n * sizeof(ChBox));
    const uint32_t n_layers = assign_layers(scene, layer);
    /* Columns as one array, in model order to start with. */
    for (uint32_t m = 0; m < n; ++m) {
      ++start[layer[m] + 1u];
    }
    for (uint32_t c = 0; c < n_layers; ++c) {
      start[c + 1u] += start[c];
    }
    uint32_t* fill = (uint32_t*)calloc(n_layers + 1u, sizeof(uint32_t));
    for (uint32_t m = 0; fill && m < n; ++m) {
      column[start[layer[m]] + fill[layer[m]]++] = m;
    }
    if (fill) {
      layout_columns(scene, layer, column, start, n_layers, want);
      untangle(scene, column, start, n_layers);
      for (uint32_t m = 0; m < n; ++m) {
        if (saved[m].placed) {
          scene->boxes[m].rect = saved[m].rect;
        }
      }
      shift_below_placed(scene);
    }
    free(fill);
  }
  free(saved);
  free(want);
  free(column);
  free(start);
  free(layer);
  ch_scene_update_bounds(scene);
}

uint32_t
ch_scene_crossings(const ChScene* const scene)
{
  uint32_t crossings = 0;
  for (uint32_t i = 0; i < scene->n_cables; ++i) {
    float sa[4];
    cable_segment(scene, &scene->cables[i], sa);
    for (uint32_t j = i + 1u; j < scene->n_cables; ++j) {
      float sb[4];
      cable_segment(scene, &scene->cables[j], sb);
      crossings += segments_cross(sa, sb);
    }
  }
  return crossings;
}

/* ---- Hit testing ----------------------------------------------------------
 */

static ChHit
hit_in_box(const ChBox* const box,
           const int          index,
           const float        x,
           const float        y)
{
  const ChHit    none  = { CH_HIT_NONE, -1, -1 };
  const ChRect   r     = box->rect;
  const uint32_t ports = max_u(box->kind->n_inputs, box->kind->n_outputs);
  const float    py0   = r.y + CH_BOX_HEAD;
  if (x < r.x - CH_PORT_REACH || x > r.x + r.w + CH_PORT_REACH || y < r.y ||
      y > r.y + r.h) {
    return none;
  }
  if (y >= py0 && y < py0 + (float)ports * CH_PORT_ROW) {
    const int  row  = (int)((y - py0) / CH_PORT_ROW);
    const bool left = x < r.x + r.w * 0.5f;
    if (left && (uint32_t)row < box->kind->n_inputs) {
      const ChHit hit = { CH_HIT_INPUT, index, row };
      return hit;
    }
    if (!left && (uint32_t)row < box->kind->n_outputs) {
      const ChHit hit = { CH_HIT_OUTPUT, index, row };
      return hit;
    }
  }
  for (uint32_t p = 0; p < box->kind->n_params; ++p) {
    const ChRect pr = ch_box_param_rect(box, p);
    if (x >= pr.x && x <= pr.x + pr.w && y >= pr.y - 1.5f &&
        y <= pr.y + CH_PARAM_ROW - 1.5f) {
      const ChHit hit = { CH_HIT_PARAM, index, (int)p };
      return hit;
    }
  }
  if (x < r.x || x > r.x + r.w) {
    return none;
  }
  const ChHit hit = { CH_HIT_BOX, index, -1 };
  return hit;
}

ChHit
ch_scene_hit(const ChScene* const scene, const float x, const float y)
{
  for (uint32_t i = scene->n_boxes; i-- > 0;) {
    const ChHit hit = hit_in_box(&scene->boxes[i], (int)i, x, y);
    if (hit.kind != CH_HIT_NONE) {
      return hit;
    }
  }
  const ChHit none = { CH_HIT_NONE, -1, -1 };
  return none;
}

void
ch_cable_point(const ChScene* const scene,
               const ChCable* const c,
               const float          t,
               float* const         x,
               float* const         y)
{
  const ChCableEnds e = ch_cable_ends(scene, c);
  /* The bezier draw.c strokes: horizontal tangents at both ports. */
  const float dx = fmaxf(40.0f, fabsf(e.x1 - e.x0) * 0.5f);
  const float u  = 1.0f - t;
  const float a  = u * u * u;
  const float b  = 3.0f * u * u * t;
  const float cc = 3.0f * u * t * t;
  const float d  = t * t * t;
  *x             = a * e.x0 + b * (e.x0 + dx) + cc * (e.x1 - dx) + d * e.x1;
  *y             = a * e.y0 + b * e.y0 + cc * e.y1 + d * e.y1;
}

int
ch_scene_hit_cable(const ChScene* const scene,
                   const float          x,
                   const float          y,
                   const float          reach)
{
  int   best      = -1;
  float best_dist = reach * reach;
  for (uint32_t i = 0; i < scene->n_cables; ++i) {
    for (int k = 0; k <= 32; ++k) {
      float px = 0.0f;
      float py = 0.0f;
      ch_cable_point(scene, &scene->cables[i], (float)k / 32.0f, &px, &py);
      const float dist = (px - x) * (px - x) + (py - y) * (py - y);
      if (dist <= best_dist) {
        best_dist = dist;
        best      = (int)i;
      }
    }
  }
  return best;
}

static bool
name_char(const char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool
ch_text_names(const char* const text, const char* const name)
{
  const size_t len = strlen(name);
  for (const char* at = text; len && (at = strstr(at, name)); ++at) {
    /* A '.' may end a sentence, so only letters, digits, '_' and '-'
       make a longer name. */
    if ((at == text || !name_char(at[-1])) && !name_char(at[len])) {
      return true;
    }
  }
  return false;
}

int
ch_scene_find(const ChScene* const scene, const char* const name)
{
  for (uint32_t i = 0; i < scene->n_boxes; ++i) {
    if (!strcmp(scene->boxes[i].name, name)) {
      return (int)i;
    }
  }
  return -1;
}

/* ---- Parameter values -----------------------------------------------------
 */

bool
ch_param_is_log(const ChParamInfo* const info)
{
  return !info->choices && info->min > 0.0f && info->max >= 100.0f * info->min;
}

uint32_t
ch_param_n_choices(const ChParamInfo* const info)
{
  uint32_t n = 0;
  while (info->choices && info->choices[n]) {
    ++n;
  }
  return n;
}

float
ch_param_to_norm(const ChParamInfo* const info, const float value)
{
  const float v = clampf(value, info->min, info->max);
  if (info->max <= info->min) {
    return 0.0f;
  }
  if (ch_param_is_log(info)) {
    return logf(v / info->min) / logf(info->max / info->min);
  }
  return (v - info->min) / (info->max - info->min);
}

float
ch_param_from_norm(const ChParamInfo* const info, const float norm)
{
  const float n = clampf(norm, 0.0f, 1.0f);
  float       v = ch_param_is_log(info)
                    ? info->min * expf(n * logf(info->max / info->min))
                    : info->min + n * (info->max - info->min);
  if (info->choices) {
    v = roundf(v);
  }
  /* Exact ends: the formulas above may miss them by an ulp. */
  return n <= 0.0f   ? info->min
         : n >= 1.0f ? info->max
                     : clampf(v, info->min, info->max);
}

float
ch_param_drag(const ChParamInfo* const info,
              const float              start,
              const float              pixels,
              const bool               fine)
{
  const float speed = fine ? CH_FINE_FACTOR : 1.0f;
  if (info->choices) {
    const float steps = truncf(pixels * speed / 24.0f);
    return clampf(roundf(start) + steps, info->min, info->max);
  }
  const float norm =
    ch_param_to_norm(info, start) + pixels * CH_DRAG_PER_PIXEL * speed;
  return ch_param_from_norm(info, norm);
}

float
ch_param_step(const ChParamInfo* const info,
              const float              value,
              const int                steps,
              const bool               fine)
{
  if (info->choices) {
    return clampf(roundf(value) + (float)steps, info->min, info->max);
  }
  const float step = fine ? 0.001f : 0.01f;
  return ch_param_from_norm(info, ch_param_to_norm(info, value) +
                                    (float)steps * step);
}

/* Three significant digits, no exponent: 1200 -> "1200", 0.3 -> "0.300". */
static void
sig3(const float v, char* const buf, const size_t size)
{
  const float a        = fabsf(v);
  int         decimals = a >= 100.0f ? 0 : a >= 10.0f ? 1 : a >= 1.0f ? 2 : 3;
  if (a > 0.0f && a < 0.01f) {
    decimals = 4;
  }
  snprintf(buf, size, "%.*f", decimals, (double)v);
  if (!strcmp(buf, "-0") || !strcmp(buf, "-0.000")) {
    snprintf(buf, size, "%.*f", decimals, 0.0);
  }
}

const char*
ch_param_format(const ChParamInfo* const info,
                const float              value,
                char* const              buf,
                const size_t             size)
{
  const uint32_t n = ch_param_n_choices(info);
  char           num[32];
  if (n) {
    const long i = lroundf(value);
    snprintf(buf, size, "%s",
             i >= 0 && (uint32_t)i < n ? info->choices[i] : "?");
  } else if (!strcmp(info->unit, "Hz") && fabsf(value) >= 1000.0f) {
    sig3(value / 1000.0f, num, sizeof(num));
    snprintf(buf, size, "%s kHz", num);
  } else if (!strcmp(info->unit, "s") && fabsf(value) < 1.0f && value != 0.0f) {
    sig3(value * 1000.0f, num, sizeof(num));
    snprintf(buf, size, "%s ms", num);
  } else {
    sig3(value, num, sizeof(num));
    snprintf(buf, size, "%s%s%s", num, info->unit[0] ? " " : "", info->unit);
  }
  return buf;
}

/* True if `a` and `b` are equal, ignoring case. */
static bool
same_word(const char* a, const char* b)
{
  for (; *a && *b; ++a, ++b) {
    if ((*a | 0x20) != (*b | 0x20)) {
      return false;
    }
  }
  return *a == *b;
}

/* The factor that unit `u` (typed) gives a value of parameter `info`,
   or 0 if it is not one of its units. */
static double
unit_factor(const ChParamInfo* const info, const char* const u)
{
  if (!*u || same_word(u, info->unit)) {
    return 1.0;
  }
  if (!strcmp(info->unit, "Hz") && (same_word(u, "k") || same_word(u, "kHz"))) {
    return 1000.0;
  }
  if (!strcmp(info->unit, "s") && same_word(u, "ms")) {
    return 0.001;
  }
  return 0.0;
}

bool
ch_param_parse(const ChParamInfo* const info,
               const char*              text,
               float* const             value)
{
  while (*text == ' ') {
    ++text;
  }
  char word[32];
  snprintf(word, sizeof(word), "%s", text);
  for (size_t n = strlen(word); n && word[n - 1u] == ' ';) {
    word[--n] = '\0';
  }
  const uint32_t n_choices = ch_param_n_choices(info);
  for (uint32_t i = 0; i < n_choices; ++i) {
    if (same_word(word, info->choices[i])) {
      *value = (float)i;
      return true;
    }
  }
  char*        end = NULL;
  const double v   = strtod(word, &end);
  if (end == word || !isfinite(v)) {
    return false;
  }
  while (*end == ' ') {
    ++end;
  }
  const double factor = n_choices ? (*end ? 0.0 : 1.0) : unit_factor(info, end);
  if (factor == 0.0) {
    return false;
  }
  /* In double, then rounded once: "3 ms" is the float 0.003 is. */
  const float typed = (float)(factor == 0.001 ? v / 1000.0 : v * factor);
  *value = n_choices ? roundf(clampf(typed, 0.0f, (float)(n_choices - 1u)))
                     : clampf(typed, info->min, info->max);
  return true;
}

/* ---- View -----------------------------------------------------------------
 */

void
ch_view_to_canvas(const ChView* const view,
                  const float         wx,
                  const float         wy,
                  float* const        cx,
                  float* const        cy)
{
  *cx = (wx - view->left) / view->zoom + view->origin_x;
  *cy = (wy - view->top) / view->zoom + view->origin_y;
}

void
ch_view_to_window(const ChView* const view,
                  const float         cx,
                  const float         cy,
                  float* const        wx,
                  float* const        wy)
{
  *wx = (cx - view->origin_x) * view->zoom + view->left;
  *wy = (cy - view->origin_y) * view->zoom + view->top;
}

void
ch_view_zoom_at(ChView* const view,
                const float   factor,
                const float   wx,
                const float   wy)
{
  float cx = 0.0f;
  float cy = 0.0f;
  ch_view_to_canvas(view, wx, wy, &cx, &cy);
  view->zoom     = clampf(view->zoom * factor, CH_ZOOM_MIN, CH_ZOOM_MAX);
  view->origin_x = cx - (wx - view->left) / view->zoom;
  view->origin_y = cy - (wy - view->top) / view->zoom;
}

void
ch_view_fit(ChView* const view, const ChRect bounds)
{
  const float margin = 16.0f;
  const float w      = fmaxf(bounds.w, 1.0f) + 2.0f * margin;
  const float h      = fmaxf(bounds.h, 1.0f) + 2.0f * margin;
  view->zoom =
    clampf(fminf(view->width / w, view->height / h), CH_ZOOM_MIN, 1.5f);
  view->origin_x = bounds.x + bounds.w * 0.5f - view->width * 0.5f / view->zoom;
  view->origin_y =
    bounds.y + bounds.h * 0.5f - view->height * 0.5f / view->zoom;
}
