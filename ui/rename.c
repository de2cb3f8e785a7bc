/* Renaming a module: a double-click on its title, type, Return (one
   ch:Rename and a commit; the module keeps its state); Escape cancels. */
#include "ui.h"

#include <X11/keysym.h>

#include <stdio.h>
#include <string.h>

/* Milliseconds between the two presses of a double-click. */
#define DOUBLE_MS 400u

/* The title band at the top of a box, in canvas units. */
#define TITLE_H 19.0f

bool
ch_ui_rename_press(ChUi* const               ui,
                   const XButtonEvent* const ev,
                   const int                 box,
                   const float               cy)
{
  const bool title = cy < ui->scene.boxes[box].rect.y + TITLE_H;
  const bool again = title && ui->last_title_box == box &&
                     ev->time - ui->last_title_press < DOUBLE_MS;
  ui->last_title_box   = title && !again ? box : -1;
  ui->last_title_press = ev->time;
  if (!again) {
    return false;
  }
  ui->renaming = box;
  snprintf(ui->rename_text, sizeof(ui->rename_text), "%s",
           ui->scene.boxes[box].name);
  ui->dirty = true;
  return true;
}

void
ch_ui_rename_cancel(ChUi* const ui)
{
  if (ui->renaming >= 0) {
    ui->renaming = -1;
    ui->dirty    = true;
  }
}

/* Return: the new name goes to the plugin (it refuses a bad one, and the
   header says why). */
static void
finish(ChUi* const ui)
{
  const int box = ui->renaming;
  ui->renaming  = -1;
  ui->dirty     = true;
  if (box < 0 || (uint32_t)box >= ui->scene.n_boxes || !ui->rename_text[0] ||
      !strcmp(ui->rename_text, ui->scene.boxes[box].name)) {
    return;
  }
  ch_ui_send_rename(ui, box, ui->rename_text);
  ch_ui_end_gesture(ui);
}

bool
ch_ui_rename_key(ChUi* const ui, XKeyEvent* const ev)
{
  if (ui->renaming < 0) {
    return false;
  }
  char         typed[8] = "";
  KeySym       sym      = 0;
  const int    n   = XLookupString(ev, typed, sizeof(typed) - 1, &sym, NULL);
  const size_t len = strlen(ui->rename_text);
  const char   c   = typed[0];
  if (sym == XK_Return || sym == XK_KP_Enter) {
    finish(ui);
  } else if (sym == XK_Escape) {
    ch_ui_rename_cancel(ui);
  } else if (sym == XK_BackSpace) {
    ui->rename_text[len ? len - 1u : 0u] = '\0';
  } else if (n == 1 && len < CH_NAME_MAX &&
             ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
    ui->rename_text[len]      = c; /* the plugin checks the whole name */
    ui->rename_text[len + 1u] = '\0';
  }
  ui->dirty = true;
  return true;
}
