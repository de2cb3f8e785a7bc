/* Typing a parameter's value: a right-click on its row (or Return on the
   focused row) opens a field; Return sets what was typed (with a unit:
   "500", "1.2k", "350 ms"), Escape or a click elsewhere leaves it. */
#include "ui.h"

#include <X11/keysym.h>

#include <stdio.h>
#include <string.h>

void
ch_ui_edit_start(ChUi* const ui, const int box, const int param)
{
  const ChBox* const b = &ui->scene.boxes[box];
  ui->editing.box      = box;
  ui->editing.param    = param;
  ui->focus            = ui->editing;
  ui->edit_bad         = false;
  /* Start from the value as shown, selected: typing replaces it. */
  ch_param_format(&b->kind->params[param], b->params[param], ui->edit_text,
                  sizeof(ui->edit_text));
  ui->edit_fresh = true;
  ui->dirty      = true;
}

void
ch_ui_edit_cancel(ChUi* const ui)
{
  if (ui->editing.box >= 0) {
    ui->editing.box = -1;
    ui->dirty       = true;
  }
}

/* Return: set the typed value, or keep the field open and mark it red. */
static void
finish(ChUi* const ui)
{
  const int box   = ui->editing.box;
  const int param = ui->editing.param;
  if ((uint32_t)box >= ui->scene.n_boxes ||
      (uint32_t)param >= ui->scene.boxes[box].kind->n_params) {
    ch_ui_edit_cancel(ui);
    return;
  }
  float v = 0.0f;
  if (!ch_param_parse(&ui->scene.boxes[box].kind->params[param], ui->edit_text,
                      &v)) {
    ui->edit_bad = true;
    return;
  }
  ch_ui_edit_cancel(ui);
  ch_ui_send_set(ui, (ChParamRef){ box, param }, v);
}

static bool
allowed(const char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == ' ';
}

bool
ch_ui_edit_key(ChUi* const ui, XKeyEvent* const ev)
{
  if (ui->editing.box < 0) {
    return false;
  }
  char       typed[8] = "";
  KeySym     sym      = 0;
  const int  n        = XLookupString(ev, typed, sizeof(typed) - 1, &sym, NULL);
  size_t     len      = strlen(ui->edit_text);
  const char c        = typed[0];
  if (sym == XK_Return || sym == XK_KP_Enter) {
    finish(ui);
    return true;
  }
  if (sym == XK_Escape) {
    ch_ui_edit_cancel(ui);
    return true;
  }
  if (ui->edit_fresh && (sym == XK_BackSpace || (n == 1 && allowed(c)))) {
    ui->edit_text[0] = '\0'; /* the first key replaces the shown value */
    len              = 0;
  }
  if (sym == XK_BackSpace && len) {
    ui->edit_text[len - 1u] = '\0';
  } else if (n == 1 && allowed(c) && len + 1u < sizeof(ui->edit_text)) {
    ui->edit_text[len]      = c;
    ui->edit_text[len + 1u] = '\0';
  } else if (sym != XK_BackSpace) {
    return true; /* other keys do nothing while typing */
  }
  ui->edit_fresh = false;
  ui->edit_bad   = false;
  ui->dirty      = true;
  return true;
}
