/* Adding a module: the list of kinds (with their one-line docs), filtered
   as the user types, and the module created where the list was opened. */
#include "ui.h"

#include "registry.h"

#include <X11/keysym.h>

#include <stdio.h>
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

/* The kind's name and the first free number: osc1, osc2, ... */
static void
free_name(const ChUi* const   ui,
          const ChKind* const kind,
          char                name[CH_NAME_MAX + 1])
{
  for (unsigned i = 1; i < 100000u; ++i) {
    snprintf(name, CH_NAME_MAX + 1, "%s%u", kind->name, i);
    if (ch_scene_find(&ui->scene, name) < 0) {
      return;
    }
  }
}

void
ch_ui_duplicate(ChUi* const ui, const int box)
{
  const ChBox* const b = &ui->scene.boxes[box];
  char               name[CH_NAME_MAX + 1];
  free_name(ui, b->kind, name);
  ch_ui_send_create(ui, name, b->kind->name, b->rect.x + 30.0f,
                    b->rect.y + 30.0f);
  /* Values that differ from the kind's defaults; the new module is in
     the standby patch only, where these land before the commit. */
  for (uint32_t p = 0; p < b->kind->n_params; ++p) {
    if (b->params[p] != b->kind->params[p].def) {
      ch_ui_send_set_named(ui, name, b->kind->params[p].name, b->params[p]);
    }
  }
  ch_ui_end_gesture(ui);
}

void
ch_ui_add_module(ChUi* const ui, const ChKind* const kind)
{
  char name[CH_NAME_MAX + 1];
  free_name(ui, kind, name);
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
