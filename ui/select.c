/* The chosen boxes (a rubber band or Shift+clicks), without X: moving
   them together and planning their copy (names, and which cables go
   along). */
#include "scene.h"

#include <stdio.h>
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
