/* The chosen boxes (a rubber band or Shift+clicks), without X: moving
   them together and planning their copy (names, where, and which cables
   go along). */
#include "scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t
ch_scene_n_chosen(const ChScene* const scene)
{
  uint32_t n = 0;
  for (uint32_t b = 0; b < scene->n_boxes; ++b) {
    n += scene->boxes[b].chosen;
  }
  return n;
}

void
ch_scene_move_chosen(ChScene* const scene, const float dx, const float dy)
{
  for (uint32_t b = 0; b < scene->n_boxes; ++b) {
    if (scene->boxes[b].chosen) {
      scene->boxes[b].rect.x += dx;
      scene->boxes[b].rect.y += dy;
    }
  }
}

/* The rectangle around every chosen box (a choice of none: all zero). */
static ChRect
chosen_bounds(const ChScene* const scene)
{
  float lo[2] = { INFINITY, INFINITY };
  float hi[2] = { -INFINITY, -INFINITY };
  for (uint32_t b = 0; b < scene->n_boxes; ++b) {
    const ChRect r = scene->boxes[b].rect;
    if (scene->boxes[b].chosen) {
      lo[0] = fminf(lo[0], r.x);
      lo[1] = fminf(lo[1], r.y);
      hi[0] = fmaxf(hi[0], r.x + r.w);
      hi[1] = fmaxf(hi[1], r.y + r.h);
    }
  }
  if (lo[0] > hi[0]) {
    return (ChRect){ 0.0f, 0.0f, 0.0f, 0.0f };
  }
  return (ChRect){ lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1] };
}

/* True if `r`, widened by `gap`, holds the point (x, y). */
static bool
near(const ChRect r, const float gap, const float x, const float y)
{
  return x > r.x - gap && x < r.x + r.w + gap && y > r.y - gap &&
         y < r.y + r.h + gap;
}

/* Points along every cable, where a copy would hide it. */
typedef struct {
  float*   xy; /* x, y, x, y, ... */
  uint32_t n;
} CablePoints;

enum { POINTS_PER_CABLE = 17 };

static CablePoints
cable_points(const ChScene* const scene)
{
  CablePoints p = { NULL, 0u };
  p.xy = malloc(2u * POINTS_PER_CABLE * (scene->n_cables + 1u) * sizeof(float));
  for (uint32_t i = 0; p.xy && i < scene->n_cables; ++i) {
    for (int k = 0; k < POINTS_PER_CABLE; ++k, ++p.n) {
      ch_cable_point(scene, &scene->cables[i],
                     (float)k / (float)(POINTS_PER_CABLE - 1), &p.xy[2u * p.n],
                     &p.xy[2u * p.n + 1u]);
    }
  }
  return p; /* out of memory: no points, cables are not looked at */
}

/* True if a chosen box moved by (dx, dy) would come within `gap` of a box
   or of a point of a cable. */
static bool
in_the_way(const ChScene* const     scene,
           const CablePoints* const cables,
           const float              dx,
           const float              dy,
           const float              gap)
{
  for (uint32_t c = 0; c < scene->n_boxes; ++c) {
    if (!scene->boxes[c].chosen) {
      continue;
    }
    ChRect m = scene->boxes[c].rect;
    m.x += dx;
    m.y += dy;
    for (uint32_t b = 0; b < scene->n_boxes; ++b) {
      const ChRect r = scene->boxes[b].rect;
      if (m.x < r.x + r.w + gap && r.x < m.x + m.w + gap &&
          m.y < r.y + r.h + gap && r.y < m.y + m.h + gap) {
        return true;
      }
    }
    for (uint32_t i = 0; i < cables->n; ++i) {
      if (near(m, gap, cables->xy[2u * i], cables->xy[2u * i + 1u])) {
        return true;
      }
    }
  }
  return false;
}

/* True if `r` moved by (dx, dy) lies wholly inside `area`. */
static bool
inside(const ChRect r, const float dx, const float dy, const ChRect area)
{
  return r.x + dx >= area.x && r.y + dy >= area.y &&
         r.x + dx + r.w <= area.x + area.w && r.y + dy + r.h <= area.y + area.h;
}

enum { REACH = 60 };             /* steps searched each way */
static const float STEP = 10.0f; /* canvas units between places tried */
static const float GAP  = 12.0f; /* kept free around every copy */

/* The nearest free offset (in view only, if `in_view`), searched ring by
   ring outwards and stopped once no nearer place can come; false if none
   within reach. */
static bool
nearest_free(const ChScene* const     scene,
             const CablePoints* const cables,
             const ChRect             visible,
             const bool               in_view,
             float* const             dx,
             float* const             dy)
{
  const ChRect c    = chosen_bounds(scene);
  float        best = INFINITY;
  for (int r = 0; r <= REACH && (float)(r * r) * STEP * STEP <= best; ++r) {
    for (int j = -r; j <= r; ++j) {
      for (int i = -r; i <= r; i += (j == -r || j == r) ? 1 : 2 * r) {
        const float x = (float)i * STEP;
        const float y = (float)j * STEP;
        /* Below or beside before above or before, at equal distance. */
        const float cost = x * x + y * y + (x < 0.0f || y < 0.0f ? 1.0f : 0.0f);
        if (cost < best && (!in_view || inside(c, x, y, visible)) &&
            !in_the_way(scene, cables, x, y, GAP)) {
          best = cost;
          *dx  = x;
          *dy  = y;
        }
        if (r == 0) {
          break; /* the ring of radius 0 is one place */
        }
      }
    }
  }
  return best < INFINITY;
}

void
ch_scene_copy_offset(const ChScene* const scene,
                     const ChRect         visible,
                     float* const         dx,
                     float* const         dy)
{
  CablePoints cables = cable_points(scene);
  if (!nearest_free(scene, &cables, visible, true, dx, dy) &&
      !nearest_free(scene, &cables, visible, false, dx, dy)) {
    /* Below everything, where nothing can be. */
    *dx = 0.0f;
    *dy = scene->bounds.y + scene->bounds.h - chosen_bounds(scene).y + GAP;
  }
  free(cables.xy);
}

bool
ch_cable_inner(const ChScene* const scene, const ChCable* const c)
{
  return scene->boxes[c->from_box].chosen && scene->boxes[c->to_box].chosen;
}

/* True if `name` is a box of `scene` or one of the first `n` of `taken`. */
static bool
name_used(const ChScene* const scene,
          const char (*const taken)[CH_NAME_MAX + 1],
          const uint32_t    n,
          const char* const name)
{
  for (uint32_t i = 0; i < n; ++i) {
    if (!strcmp(taken[i], name)) {
      return true;
    }
  }
  return ch_scene_find(scene, name) >= 0;
}

void
ch_scene_free_name(const ChScene* const scene,
                   const ChKind* const  kind,
                   const char (*const taken)[CH_NAME_MAX + 1],
                   const uint32_t n_taken,
                   char           name[CH_NAME_MAX + 1])
{
  for (unsigned i = 1; i < 100000u; ++i) {
    snprintf(name, CH_NAME_MAX + 1, "%s%u", kind->name, i);
    if (!name_used(scene, taken, n_taken, name)) {
      return;
    }
  }
}

uint32_t
ch_scene_copy_names(const ChScene* const scene,
                    char (*const names)[CH_NAME_MAX + 1],
                    const uint32_t max)
{
  uint32_t n = 0;
  for (uint32_t b = 0; b < scene->n_boxes && n < max; ++b) {
    if (scene->boxes[b].chosen) {
      ch_scene_free_name(scene, scene->boxes[b].kind,
                         (const char(*)[CH_NAME_MAX + 1]) names, n, names[n]);
      ++n;
    }
  }
  return n;
}
