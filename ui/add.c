/* Adding a module: the list of kinds (with their one-line docs), filtered
   as the user types, and the module created where the list was opened. */
#include "ui.h"

#include "registry.h"

#include <X11/keysym.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A case-insensitive substring test. */
static bool
contains(const char* const text, const char* const part)
{
  const size_t n = strlen(part);
  for (const char* t = text; *t; ++t) {
    size_t i = 0;
    while (i < n && t[i] && (t[i] | 0x20) == (part[i] | 0x20)) {
      ++i;
    }
    if (i == n) {
      return true;
    }
  }
  return !n;
}

/* Pass 0: kinds whose name has the typed text; pass 1: the others whose
   one-line doc has it.  Names first, so "lad" puts ladder on top. */
static bool
matches(const ChUi* const ui, const ChKind* const kind, const int pass)
{
  const bool by_name = contains(kind->name, ui->filter);
  return pass == 0 ? by_name : !by_name && contains(kind->doc, ui->filter);
}

int
ch_ui_kinds_count(const ChUi* const ui)
{
  int n = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t k = 0; k < ch_registry_count(); ++k) {
      n += matches(ui, ch_registry_at(k), pass);
    }
  }
  return n;
}

const ChKind*
ch_ui_kind_at(const ChUi* const ui, const int item)
{
  int n = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t k = 0; k < ch_registry_count(); ++k) {
      const ChKind* const kind = ch_registry_at(k);
      if (matches(ui, kind, pass) && n++ == item) {
        return kind;
      }
    }
  }
  return NULL;
}

void
ch_ui_open_kinds(ChUi* const ui, const float wx, const float wy)
{
  ch_view_to_canvas(&ui->view, wx, wy, &ui->add_x, &ui->add_y);
  ui->filter[0]  = '\0';
  ui->menu       = CH_MENU_KINDS;
  ui->menu_hover = 0;
  ui->dirty      = true;
}

/* Create a copy of box `b` named `name`, moved by (dx, dy), with the
   values that differ from the kind's defaults (the copy is in the standby
   patch only, where these land before the commit). */
static void
copy_box(ChUi* const        ui,
         const ChBox* const b,
         const char* const  name,
         const float        dx,
         const float        dy)
{
  ch_ui_send_create(ui, name, b->kind->name, b->rect.x + dx, b->rect.y + dy);
  for (uint32_t p = 0; p < b->kind->n_params; ++p) {
    if (b->params[p] != b->kind->params[p].def) {
      ch_ui_send_set_named(ui, name, b->kind->params[p].name, b->params[p]);
    }
  }
}

/* The cables between chosen boxes, between their copies. */
static void
copy_inner_cables(ChUi* const ui, char (*const names)[CH_NAME_MAX + 1])
{
  /* names[] follows the chosen boxes in order: number them. */
  int* const nth = calloc(ui->scene.n_boxes, sizeof(int));
  if (!nth) {
    return;
  }
  int n = 0;
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    nth[b] = ui->scene.boxes[b].chosen ? n++ : -1;
  }
  for (uint32_t i = 0; i < ui->scene.n_cables; ++i) {
    const ChCable* const c = &ui->scene.cables[i];
    if (!ch_cable_inner(&ui->scene, c)) {
      continue;
    }
    char from[CH_NAME_MAX + 24];
    char to[CH_NAME_MAX + 24];
    snprintf(from, sizeof(from), "%s:%s", names[nth[c->from_box]],
             ui->scene.boxes[c->from_box].kind->outputs[c->from_port].name);
    snprintf(to, sizeof(to), "%s:%s", names[nth[c->to_box]],
             ui->scene.boxes[c->to_box].kind->inputs[c->to_port].name);
    ch_ui_send_connect_named(ui, from, to);
  }
  free(nth);
}

void
ch_ui_duplicate(ChUi* const ui)
{
  if (!ch_scene_n_chosen(&ui->scene) && ui->selected_box >= 0 &&
      (uint32_t)ui->selected_box < ui->scene.n_boxes) {
    ui->scene.boxes[ui->selected_box].chosen = true; /* a choice of one */
  }
  const uint32_t n                    = ch_scene_n_chosen(&ui->scene);
  char(*const names)[CH_NAME_MAX + 1] = calloc(n + 1u, sizeof(*names));
  if (!n || !names) {
    free(names);
    return;
  }
  ch_scene_copy_names(&ui->scene, names, n);
  float  dx = 0.0f;
  float  dy = 0.0f;
  ChRect view;
  ch_view_to_canvas(&ui->view, 0.0f, CH_HEADER_H, &view.x, &view.y);
  ch_view_to_canvas(&ui->view, (float)ui->width, (float)ui->height, &view.w,
                    &view.h);
  view.w -= view.x;
  view.h -= view.y;
  ch_scene_copy_offset(&ui->scene, view, &dx, &dy); /* in view if it fits */
  uint32_t i = 0;
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    if (ui->scene.boxes[b].chosen) {
      copy_box(ui, &ui->scene.boxes[b], names[i++], dx, dy);
    }
  }
  copy_inner_cables(ui, names);
  /* The copies become the choice once the patch shows them, ready to be
     dragged away together. */
  free(ui->want_chosen);
  ui->want_chosen   = names;
  ui->n_want_chosen = n;
  ui->selected_box  = -1;
  ch_ui_end_gesture(ui); /* one commit: one undo step */
}

void
ch_ui_add_module(ChUi* const ui, const ChKind* const kind)
{
  char name[CH_NAME_MAX + 1];
  ch_scene_free_name(&ui->scene, kind, NULL, 0, name);
  ch_ui_send_create(ui, name, kind->name, ui->add_x, ui->add_y);
  ch_ui_end_gesture(ui);
  ui->menu  = CH_MENU_NONE;
  ui->dirty = true;
}

bool
ch_ui_kinds_key(ChUi* const ui, XKeyEvent* const ev)
{
  char         typed[8] = "";
  KeySym       sym      = 0;
  const int    n   = XLookupString(ev, typed, sizeof(typed) - 1, &sym, NULL);
  const size_t len = strlen(ui->filter);
  if (sym == XK_BackSpace) {
    if (len) {
      ui->filter[len - 1] = '\0';
    }
  } else if (n == 1 && ((typed[0] >= 'a' && typed[0] <= 'z') ||
                        (typed[0] >= 'A' && typed[0] <= 'Z') ||
                        (typed[0] >= '0' && typed[0] <= '9') ||
                        typed[0] == ' ' || typed[0] == '-')) {
    if (len + 1u < sizeof(ui->filter)) {
      ui->filter[len]      = typed[0];
      ui->filter[len + 1u] = '\0';
    }
  } else {
    return false; /* Up, Down, Return, Escape: the list's usual keys */
  }
  ui->menu_hover = 0;
  ui->dirty      = true;
  return true;
}
