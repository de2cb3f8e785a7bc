/* Gestures: parameter drags, double-click reset, scroll steps, pan and
   zoom, the program and choice lists, and keyboard shortcuts. */
#include "ui.h"

#include <X11/keysym.h>

#include <math.h>

#define DOUBLE_CLICK_MS 400u
#define ZOOM_STEP       1.2f
#define PAN_STEP        48.0f
#define CABLE_REACH     6.0f /* logical pixels from a cable that still hit it */

static const ChParamInfo*
param_info(const ChUi* const ui, const ChParamRef ref)
{
  return &ui->scene.boxes[ref.box].kind->params[ref.param];
}

static bool
valid_ref(const ChUi* const ui, const ChParamRef ref)
{
  return ref.box >= 0 && (uint32_t)ref.box < ui->scene.n_boxes &&
         ref.param >= 0 &&
         (uint32_t)ref.param < ui->scene.boxes[ref.box].kind->n_params;
}

static float
param_value(const ChUi* const ui, const ChParamRef ref)
{
  return ui->scene.boxes[ref.box].params[ref.param];
}

void
ch_ui_fit(ChUi* const ui)
{
  ch_view_fit(&ui->view, ui->scene.bounds);
  ui->dirty = true;
}

static bool
in_rect(const ChRect r, const float x, const float y)
{
  return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

/* The header control under (x, y), or CH_HEADER_N_SPOTS for none. */
static ChHeaderSpot
header_spot(const float x, const float y)
{
  ChHeaderSpot spot = CH_HEADER_PROGRAM;
  while (spot < CH_HEADER_N_SPOTS && !in_rect(ch_ui_header_rect(spot), x, y)) {
    ++spot;
  }
  return spot;
}

/* A click while a list is open: pick the item under it, or close. */
static void
menu_click(ChUi* const ui, const float x, const float y)
{
  const int n = ch_ui_menu_count(ui);
  for (int i = 0; i < n; ++i) {
    if (!in_rect(ch_ui_menu_item_rect(ui, i), x, y)) {
      continue;
    }
    if (ui->menu == CH_MENU_PROGRAM) {
      ch_ui_send_program(ui, ui->client.bank[i].number);
    } else if (ui->menu == CH_MENU_KINDS) {
      ch_ui_add_module(ui, ch_ui_kind_at(ui, i));
    } else if (ui->menu == CH_MENU_VOICES) {
      ch_ui_send_polyphony(ui, (uint32_t)i + 1u);
    } else if (valid_ref(ui, ui->focus)) {
      ch_ui_send_set(ui, ui->focus, (float)i);
    }
    break;
  }
  ui->menu  = CH_MENU_NONE;
  ui->dirty = true;
}

static void
open_menu(ChUi* const ui, const ChMenuKind kind)
{
  ui->menu       = kind;
  ui->menu_hover = kind == CH_MENU_PROGRAM ? (int)lroundf(ui->client.program)
                   : kind == CH_MENU_VOICES
                     ? (int)ui->scene.polyphony - 1
                     : (int)lroundf(param_value(ui, ui->focus));
  ui->dirty      = true;
}

static void
step_program(ChUi* const ui, const int delta)
{
  const int n = (int)ui->client.n_bank;
  for (int i = 0; i < n; ++i) {
    if (ui->client.bank[i].number == (int)lroundf(ui->client.program)) {
      const int next = i + delta;
      if (next >= 0 && next < n) {
        ch_ui_send_program(ui, ui->client.bank[next].number);
      }
      return;
    }
  }
  if (n) {
    ch_ui_send_program(ui, ui->client.bank[0].number);
  }
}

static void
step_param(ChUi* const      ui,
           const ChParamRef ref,
           const int        steps,
           const bool       fine)
{
  const float v =
    ch_param_step(param_info(ui, ref), param_value(ui, ref), steps, fine);
  ch_ui_send_set(ui, ref, v);
}

static void
wheel(ChUi* const               ui,
      const XButtonEvent* const ev,
      const float               x,
      const float               y)
{
  const int  dir  = ev->button == Button4 || ev->button == 6 ? 1 : -1;
  const bool ctrl = ev->state & ControlMask;
  const bool fine = ev->state & ShiftMask;
  if (y < CH_HEADER_H) {
    if (header_spot(x, y) == CH_HEADER_PROGRAM) {
      step_program(ui, -dir);
    }
    return;
  }
  float cx = 0.0f;
  float cy = 0.0f;
  ch_view_to_canvas(&ui->view, x, y, &cx, &cy);
  const ChHit hit = ch_scene_hit(&ui->scene, cx, cy);
  if (ctrl) {
    ch_view_zoom_at(&ui->view, dir > 0 ? ZOOM_STEP : 1.0f / ZOOM_STEP, x, y);
  } else if (hit.kind == CH_HIT_PARAM) {
    const ChParamRef ref = { hit.box, hit.index };
    ui->focus            = ref;
    step_param(ui, ref, dir, fine);
  } else if (ev->button >= 6 || fine) {
    ui->view.origin_x -= (float)dir * PAN_STEP / ui->view.zoom;
  } else {
    ui->view.origin_y -= (float)dir * PAN_STEP / ui->view.zoom;
  }
  ui->dirty = true;
}

static void
press_param(ChUi* const         ui,
            const ChParamRef    ref,
            const XButtonEvent* ev,
            const float         x,
            const float         y)
{
  const bool again = ui->last_press.box == ref.box &&
                     ui->last_press.param == ref.param &&
                     ev->time - ui->last_press_time < DOUBLE_CLICK_MS;
  ui->last_press      = ref;
  ui->last_press_time = ev->time;
  ui->focus           = ref;
  ui->dirty           = true;
  if (again) { /* double-click: back to the kind's default */
    ch_ui_send_set(ui, ref, param_info(ui, ref)->def);
    ui->last_press.box = -1;
    return;
  }
  ui->drag        = CH_DRAG_PARAM;
  ui->drag_param  = ref;
  ui->drag_x0     = x;
  ui->drag_y0     = y;
  ui->drag_value0 = param_value(ui, ref);
  ui->drag_moved  = false;
}

static void
start_pan(ChUi* const ui, const float x, const float y)
{
  ui->drag           = CH_DRAG_PAN;
  ui->drag_x0        = x;
  ui->drag_y0        = y;
  ui->drag_origin_x0 = ui->view.origin_x;
  ui->drag_origin_y0 = ui->view.origin_y;
}

/* The newest cable into input `port` of `box`, or -1. */
static int
cable_into(const ChUi* const ui, const int box, const int port)
{
  for (uint32_t i = ui->scene.n_cables; i-- > 0;) {
    const ChCable* const c = &ui->scene.cables[i];
    if ((int)c->to_box == box && (int)c->to_port == port) {
      return (int)i;
    }
  }
  return -1;
}

/* Press on a port: pull a new cable from an output, or pick up the newest
   cable of an input by its end. */
static void
press_port(ChUi* const ui, const ChHit hit, const float cx, const float cy)
{
  int box  = hit.box;
  int port = hit.index;
  int old  = -1;
  if (hit.kind == CH_HIT_INPUT) {
    old = cable_into(ui, hit.box, hit.index);
    if (old < 0) {
      return;
    }
    box  = (int)ui->scene.cables[old].from_box;
    port = (int)ui->scene.cables[old].from_port;
  }
  ui->drag       = CH_DRAG_CABLE;
  ui->cable_box  = box;
  ui->cable_port = port;
  ui->cable_old  = old;
  ui->cable_x    = cx;
  ui->cable_y    = cy;
  ui->cable_x0   = cx;
  ui->cable_y0   = cy;
  ui->cable_target =
    hit.kind == CH_HIT_INPUT ? hit : (ChHit){ CH_HIT_NONE, -1, -1 };
  ui->selected_cable = -1;
  ui->dirty          = true;
}

static void
choose_none(ChUi* const ui)
{
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    ui->scene.boxes[b].chosen = false;
  }
}

/* Shift+click on a box: it joins the choice (with the box selected
   before, if any) or leaves it. */
static void
toggle_chosen(ChUi* const ui, const int box)
{
  if (ui->selected_box >= 0 && (uint32_t)ui->selected_box < ui->scene.n_boxes) {
    ui->scene.boxes[ui->selected_box].chosen = true;
  }
  ui->scene.boxes[box].chosen =
    !ui->scene.boxes[box].chosen || ui->selected_box == box;
  ui->selected_box   = -1;
  ui->selected_cable = -1;
  ui->dirty          = true;
}

/* Shift+drag on the empty canvas: a rubber band chooses every box it
   touches (for Delete). */
static void
start_band(ChUi* const ui, const float cx, const float cy)
{
  choose_none(ui);
  ui->drag    = CH_DRAG_BAND;
  ui->band[0] = ui->band[2] = cx;
  ui->band[1] = ui->band[3] = cy;
  ui->selected_box          = -1;
  ui->selected_cable        = -1;
  ui->dirty                 = true;
}

static void
drag_band(ChUi* const ui, const float x, const float y)
{
  ch_view_to_canvas(&ui->view, x, y, &ui->band[2], &ui->band[3]);
  const float x0 = fminf(ui->band[0], ui->band[2]);
  const float x1 = fmaxf(ui->band[0], ui->band[2]);
  const float y0 = fminf(ui->band[1], ui->band[3]);
  const float y1 = fmaxf(ui->band[1], ui->band[3]);
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    const ChRect r = ui->scene.boxes[b].rect;
    ui->scene.boxes[b].chosen =
      r.x < x1 && r.x + r.w > x0 && r.y < y1 && r.y + r.h > y0;
  }
  ui->dirty = true;
}

/* Press on the canvas: a port, a parameter, a box, a cable or nothing. */
static void
press_canvas(ChUi* const               ui,
             const XButtonEvent* const ev,
             const float               x,
             const float               y)
{
  float cx = 0.0f;
  float cy = 0.0f;
  ch_view_to_canvas(&ui->view, x, y, &cx, &cy);
  const ChHit hit = ch_scene_hit(&ui->scene, cx, cy);
  if (hit.kind == CH_HIT_NONE && (ev->state & ShiftMask)) {
    start_band(ui, cx, cy);
    return;
  }
  if (hit.kind == CH_HIT_BOX && (ev->state & ShiftMask)) {
    toggle_chosen(ui, hit.box);
    return;
  }
  /* A press on a chosen box keeps the choice: dragging it moves them all. */
  if (hit.kind != CH_HIT_BOX || !ui->scene.boxes[hit.box].chosen) {
    choose_none(ui);
  }
  ch_ui_rename_cancel(ui); /* a click elsewhere: the name stays */
  ui->selected_box   = hit.kind == CH_HIT_BOX ? hit.box : -1;
  ui->selected_cable = -1;
  ui->dirty          = true;
  if (hit.kind == CH_HIT_PARAM) {
    const ChParamRef ref = { hit.box, hit.index };
    press_param(ui, ref, ev, x, y);
  } else if (hit.kind == CH_HIT_BOX &&
             ch_ui_rename_press(ui, ev, hit.box, cy)) {
    return; /* a double-click on the title: type the new name */
  } else if (hit.kind == CH_HIT_BOX) {
    ui->drag           = CH_DRAG_BOX; /* selected; moves if dragged */
    ui->drag_x0        = x;
    ui->drag_y0        = y;
    ui->drag_origin_x0 = ui->scene.boxes[hit.box].rect.x;
    ui->drag_origin_y0 = ui->scene.boxes[hit.box].rect.y;
    ui->drag_moved     = false;
  } else if (hit.kind == CH_HIT_INPUT || hit.kind == CH_HIT_OUTPUT) {
    press_port(ui, hit, cx, cy);
  } else if (hit.kind == CH_HIT_NONE) {
    ui->selected_cable =
      ch_scene_hit_cable(&ui->scene, cx, cy, CABLE_REACH / ui->view.zoom);
    if (ui->selected_cable >= 0) { /* a cable: probe what it carries */
      const ChCable* const c = &ui->scene.cables[ui->selected_cable];
      ch_ui_scope_probe(ui, (int)c->from_box, (int)c->from_port);
    }
    /* A double-click: two presses on the empty canvas, close in time and
       place (a cable's selection does not count). */
    const bool again = ui->selected_cable < 0 && ui->last_empty_press &&
                       ev->time - ui->last_empty_press < DOUBLE_CLICK_MS &&
                       fabsf(x - ui->last_empty_x) < 4.0f &&
                       fabsf(y - ui->last_empty_y) < 4.0f;
    ui->last_empty_press = again || ui->selected_cable >= 0 ? 0 : ev->time;
    ui->last_empty_x     = x;
    ui->last_empty_y     = y;
    if (ui->selected_cable < 0 && again) {
      ch_ui_open_kinds(ui, x, y); /* double-click: add a module here */
    } else if (ui->selected_cable < 0) {
      start_pan(ui, x, y);
    }
  }
}

/* Right-click: on a parameter, type its value; elsewhere, add a module
   here. */
static void
right_click(ChUi* const ui, const float x, const float y)
{
  float cx = 0.0f;
  float cy = 0.0f;
  ch_view_to_canvas(&ui->view, x, y, &cx, &cy);
  const ChHit hit = ch_scene_hit(&ui->scene, cx, cy);
  if (hit.kind == CH_HIT_PARAM) {
    ch_ui_edit_start(ui, hit.box, hit.index);
  } else {
    ch_ui_open_kinds(ui, x, y);
  }
}

/* A click in the header: its buttons (Commit and Abort while edits wait). */
static void
press_header(ChUi* const ui, const float x, const float y)
{
  switch (header_spot(x, y)) {
  case CH_HEADER_PROGRAM:
    if (ui->client.n_bank) {
      open_menu(ui, CH_MENU_PROGRAM);
    }
    break;
  case CH_HEADER_STAGED:
    ch_ui_toggle_staged(ui);
    break;
  case CH_HEADER_VOICES:
    if (ui->scene.n_boxes) {
      open_menu(ui, CH_MENU_VOICES);
    }
    break;
  case CH_HEADER_COMMIT:
    if (ui->pending) {
      ch_ui_stage_commit(ui);
    }
    break;
  case CH_HEADER_ABORT:
    if (ui->pending) {
      ch_ui_stage_abort(ui);
    }
    break;
  case CH_HEADER_N_SPOTS:
    break;
  }
}

void
ch_ui_button_press(ChUi* const ui, const XButtonEvent* const ev)
{
  const float x = (float)ev->x / ui->scale;
  const float y = (float)ev->y / ui->scale;
  XSetInputFocus(ui->dpy, ui->win, RevertToParent, CurrentTime);
  XFlush(ui->dpy); /* the next key is ours, not a later idle call's */
  if (ev->button >= Button4 && ev->button <= 7) {
    wheel(ui, ev, x, y);
    return;
  }
  if (ui->menu != CH_MENU_NONE) {
    menu_click(ui, x, y);
    return;
  }
  if (ev->button == Button2) {
    start_pan(ui, x, y);
    return;
  }
  ch_ui_edit_cancel(ui); /* a click elsewhere: the value stays */
  if (ev->button == Button3 && y >= CH_HEADER_H) {
    right_click(ui, x, y);
    return;
  }
  if (ev->button != Button1) {
    return;
  }
  if (in_rect(ch_ui_scope_rect(ui), x, y)) {
    ch_ui_scope_stop(ui); /* the scope panel: a click closes it */
    return;
  }
  if (y < CH_HEADER_H) {
    press_header(ui, x, y);
    return;
  }
  press_canvas(ui, ev, x, y);
}

/* True if the patch has a link from output `fb`:`fp` into `tb`:`tp`. */
static bool
linked(const ChUi* const ui,
       const int         fb,
       const int         fp,
       const int         tb,
       const int         tp)
{
  for (uint32_t i = 0; i < ui->scene.n_cables; ++i) {
    const ChCable* const c = &ui->scene.cables[i];
    if ((int)c->from_box == fb && (int)c->from_port == fp &&
        (int)c->to_box == tb && (int)c->to_port == tp) {
      return true;
    }
  }
  return false;
}

/* A cable let go: plugged into an input, or dropped (which unplugs the
   cable it was picked up from).  One gesture, one commit. */
static void
release_cable(ChUi* const ui)
{
  const ChHit t    = ui->cable_target;
  const int   old  = ui->cable_old;
  bool        edit = false;
  if (old >= 0 &&
      !(t.kind == CH_HIT_INPUT && (int)ui->scene.cables[old].to_box == t.box &&
        (int)ui->scene.cables[old].to_port == t.index)) {
    ch_ui_send_disconnect(ui, old);
    edit = true;
  }
  if (t.kind == CH_HIT_INPUT &&
      !linked(ui, ui->cable_box, ui->cable_port, t.box, t.index)) {
    ch_ui_send_connect(ui, ui->cable_box, ui->cable_port, t.box, t.index);
    edit = true;
  }
  if (edit) {
    ch_ui_end_gesture(ui);
  }
  /* A click on an output (no drag): probe it. */
  if (old < 0 && t.kind == CH_HIT_NONE &&
      fabsf(ui->cable_x - ui->cable_x0) + fabsf(ui->cable_y - ui->cable_y0) <
        3.0f / ui->view.zoom) {
    ch_ui_scope_probe(ui, ui->cable_box, ui->cable_port);
  }
  ui->drag  = CH_DRAG_NONE;
  ui->dirty = true;
}

void
ch_ui_button_release(ChUi* const ui, const XButtonEvent* const ev)
{
  (void)ev;
  if (ui->drag == CH_DRAG_CABLE) {
    release_cable(ui);
    return;
  }
  if (ui->drag == CH_DRAG_BOX && ui->drag_moved && ui->selected_box >= 0) {
    /* The plugin hears of every box that moved, all at once. */
    if (ui->scene.boxes[ui->selected_box].chosen) {
      for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
        if (ui->scene.boxes[b].chosen) {
          ch_ui_send_move(ui, (int)b);
        }
      }
    } else {
      ch_ui_send_move(ui, ui->selected_box);
    }
    ch_scene_update_bounds(&ui->scene);
  } else if (ui->drag == CH_DRAG_BOX && ui->selected_box >= 0) {
    choose_none(ui); /* a click, not a drag: this box alone is selected */
  }
  if (ui->drag == CH_DRAG_PARAM && !ui->drag_moved &&
      valid_ref(ui, ui->drag_param) &&
      param_info(ui, ui->drag_param)->choices) {
    ui->focus = ui->drag_param;
    open_menu(ui, CH_MENU_CHOICE); /* a click on a list opens it */
  }
  if (ui->drag == CH_DRAG_BAND) {
    ui->dirty = true; /* the band goes; what it chose stays marked */
  }
  ui->drag = CH_DRAG_NONE;
}

/* `fine` (Shift held): the slow drag. */
static void
drag_param(ChUi* const ui, const float x, const float y, const bool fine)
{
  if (!valid_ref(ui, ui->drag_param)) {
    ui->drag = CH_DRAG_NONE;
    return;
  }
  /* Right or up raises the value; distances in window pixels, so that
     zoom does not change how a drag feels. */
  const float pixels = (x - ui->drag_x0) - (y - ui->drag_y0);
  if (fabsf(pixels) >= 2.0f) {
    ui->drag_moved = true;
  }
  if (!ui->drag_moved) {
    return;
  }
  const float v = ch_param_drag(param_info(ui, ui->drag_param), ui->drag_value0,
                                pixels, fine);
  ch_ui_send_set(ui, ui->drag_param, v);
}

/* The loose end follows the pointer and snaps to the input under it (any
   input of another module: every signal is a stream of floats). */
static void
drag_cable(ChUi* const ui, const float x, const float y)
{
  ch_view_to_canvas(&ui->view, x, y, &ui->cable_x, &ui->cable_y);
  ChHit hit = ch_scene_hit(&ui->scene, ui->cable_x, ui->cable_y);
  if (hit.kind != CH_HIT_INPUT || hit.box == ui->cable_box) {
    hit = (ChHit){ CH_HIT_NONE, -1, -1 };
  }
  ui->cable_target = hit;
  ui->dirty        = true;
}

/* The selected box follows the pointer (on a grid of 5 units, so boxes
   line up easily), and the other chosen boxes with it if it is chosen;
   the plugin hears of it on release. */
static void
drag_box(ChUi* const ui, const float x, const float y)
{
  const float dx = x - ui->drag_x0;
  const float dy = y - ui->drag_y0;
  if (ui->selected_box < 0 ||
      (!ui->drag_moved && fabsf(dx) + fabsf(dy) < 3.0f)) {
    return;
  }
  ui->drag_moved   = true;
  ChBox* const box = &ui->scene.boxes[ui->selected_box];
  const float  x1 =
    roundf((ui->drag_origin_x0 + dx / ui->view.zoom) / 5.0f) * 5.0f;
  const float y1 =
    roundf((ui->drag_origin_y0 + dy / ui->view.zoom) / 5.0f) * 5.0f;
  if (box->chosen) {
    ch_scene_move_chosen(&ui->scene, x1 - box->rect.x, y1 - box->rect.y);
  } else {
    box->rect.x = x1;
    box->rect.y = y1;
  }
  ui->dirty = true;
}

void
ch_ui_motion(ChUi* const ui, const XMotionEvent* const ev)
{
  const float x = (float)ev->x / ui->scale;
  const float y = (float)ev->y / ui->scale;
  if (ui->drag == CH_DRAG_PARAM) {
    drag_param(ui, x, y, ev->state & ShiftMask);
    return;
  }
  if (ui->drag == CH_DRAG_CABLE) {
    drag_cable(ui, x, y);
    return;
  }
  if (ui->drag == CH_DRAG_BOX) {
    drag_box(ui, x, y);
    return;
  }
  if (ui->drag == CH_DRAG_BAND) {
    drag_band(ui, x, y);
    return;
  }
  if (ui->drag == CH_DRAG_PAN) {
    ui->view.origin_x = ui->drag_origin_x0 - (x - ui->drag_x0) / ui->view.zoom;
    ui->view.origin_y = ui->drag_origin_y0 - (y - ui->drag_y0) / ui->view.zoom;
    ui->dirty         = true;
    return;
  }
  if (ui->menu != CH_MENU_NONE) {
    int over = -1;
    for (int i = 0; i < ch_ui_menu_count(ui); ++i) {
      over = in_rect(ch_ui_menu_item_rect(ui, i), x, y) ? i : over;
    }
    if (over >= 0 && over != ui->menu_hover) {
      ui->menu_hover = over;
      ui->dirty      = true;
    }
    return;
  }
  float cx = 0.0f;
  float cy = 0.0f;
  ch_view_to_canvas(&ui->view, x, y, &cx, &cy);
  const ChHit hit = y < CH_HEADER_H ? (ChHit){ CH_HIT_NONE, -1, -1 }
                                    : ch_scene_hit(&ui->scene, cx, cy);
  if (hit.box != ui->hover.box || hit.kind != ui->hover.kind ||
      hit.index != ui->hover.index) {
    ui->hover = hit;
    ui->dirty = true;
  }
}

/* Tab: the next (or previous) parameter of all boxes, in order. */
static void
move_focus(ChUi* const ui, const int dir)
{
  int total = 0;
  int at    = -1;
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    if ((int)b == ui->focus.box) {
      at = total + ui->focus.param;
    }
    total += (int)ui->scene.boxes[b].kind->n_params;
  }
  if (!total) {
    return;
  }
  int want = at < 0 ? (dir > 0 ? 0 : total - 1) : (at + dir + total) % total;
  for (uint32_t b = 0; b < ui->scene.n_boxes; ++b) {
    const int n = (int)ui->scene.boxes[b].kind->n_params;
    if (want < n) {
      ui->focus.box   = (int)b;
      ui->focus.param = want;
      break;
    }
    want -= n;
  }
  ui->dirty = true;
}

static bool
menu_key(ChUi* const ui, const KeySym sym)
{
  const int n = ch_ui_menu_count(ui);
  if (sym == XK_Up || sym == XK_Down) {
    ui->menu_hover += sym == XK_Up ? -1 : 1;
    ui->menu_hover = ui->menu_hover < 0    ? 0
                     : ui->menu_hover >= n ? n - 1
                                           : ui->menu_hover;
  } else if (sym == XK_Return || sym == XK_KP_Enter || sym == XK_space) {
    const ChRect r = ch_ui_menu_item_rect(ui, ui->menu_hover);
    menu_click(ui, r.x + 1.0f, r.y + 1.0f);
  } else if (sym == XK_Escape) {
    ui->menu = CH_MENU_NONE;
  } else {
    return false;
  }
  ui->dirty = true;
  return true;
}

static void
zoom_center(ChUi* const ui, const float factor)
{
  ch_view_zoom_at(&ui->view, factor, ui->view.left + ui->view.width * 0.5f,
                  ui->view.top + ui->view.height * 0.5f);
  ui->dirty = true;
}

static void
arrow_key(ChUi* const ui, const KeySym sym, const bool fine)
{
  const bool up = sym == XK_Up || sym == XK_Right;
  if (valid_ref(ui, ui->focus)) {
    step_param(ui, ui->focus, up ? 1 : -1, fine);
    return;
  }
  const float d = PAN_STEP / ui->view.zoom;
  ui->view.origin_x += sym == XK_Left ? -d : sym == XK_Right ? d : 0.0f;
  ui->view.origin_y += sym == XK_Up ? -d : sym == XK_Down ? d : 0.0f;
  ui->dirty = true;
}

/* Delete: the selected cable or module, or every chosen one, as one
   commit. */
static void
delete_selection(ChUi* const ui)
{
  bool any = false;
  for (uint32_t b = ui->scene.n_boxes; b-- > 0;) {
    if (ui->scene.boxes[b].chosen) {
      ch_ui_send_delete(ui, (int)b);
      any = true;
    }
  }
  if (any) {
    ch_ui_end_gesture(ui);
  } else if (ui->selected_cable >= 0 &&
             (uint32_t)ui->selected_cable < ui->scene.n_cables) {
    ch_ui_send_disconnect(ui, ui->selected_cable);
    ch_ui_end_gesture(ui);
  } else if (ui->selected_box >= 0 &&
             (uint32_t)ui->selected_box < ui->scene.n_boxes) {
    ch_ui_send_delete(ui, ui->selected_box);
    ch_ui_end_gesture(ui);
  }
  ui->selected_cable = -1;
  ui->selected_box   = -1;
  ui->dirty          = true;
}

void
ch_ui_key(ChUi* const ui, const XKeyEvent* const ev)
{
  XKeyEvent    copy = *ev;
  const KeySym sym  = XLookupKeysym(&copy, 0);
  const bool   fine = ev->state & ShiftMask;
  if (ui->menu == CH_MENU_KINDS && ch_ui_kinds_key(ui, &copy)) {
    return;
  }
  if (ch_ui_rename_key(ui, &copy) || ch_ui_edit_key(ui, &copy)) {
    return;
  }
  if (ui->menu != CH_MENU_NONE && menu_key(ui, sym)) {
    return;
  }
  if ((ev->state & ControlMask) && sym == XK_Return) {
    ch_ui_stage_commit(ui);
  } else if ((ev->state & ControlMask) && sym == XK_BackSpace && ui->pending) {
    ch_ui_stage_abort(ui);
  } else if (sym == XK_s && !(ev->state & ControlMask)) {
    ch_ui_toggle_staged(ui);
  } else if ((ev->state & ControlMask) && sym == XK_d) {
    ch_ui_duplicate(ui);
  } else if ((ev->state & ControlMask) && (sym == XK_z || sym == XK_y)) {
    /* Ctrl+Z undoes, Ctrl+Shift+Z or Ctrl+Y redoes: in the plugin, so
       every client sees it. */
    ch_ui_send_undo(ui, sym == XK_z && !fine);
  } else if (sym == XK_f || sym == XK_Home) {
    ch_ui_fit(ui);
  } else if (sym == XK_plus || sym == XK_equal || sym == XK_KP_Add) {
    zoom_center(ui, ZOOM_STEP);
  } else if (sym == XK_minus || sym == XK_KP_Subtract) {
    zoom_center(ui, 1.0f / ZOOM_STEP);
  } else if (sym == XK_0) {
    zoom_center(ui, 1.0f / ui->view.zoom);
  } else if (sym == XK_Tab || sym == XK_ISO_Left_Tab) {
    move_focus(ui, (sym == XK_ISO_Left_Tab || fine) ? -1 : 1);
  } else if (sym == XK_Up || sym == XK_Down || sym == XK_Left ||
             sym == XK_Right) {
    arrow_key(ui, sym, fine);
  } else if (sym == XK_BackSpace && valid_ref(ui, ui->focus)) {
    ch_ui_send_set(ui, ui->focus, param_info(ui, ui->focus)->def);
  } else if ((sym == XK_Return || sym == XK_space) &&
             valid_ref(ui, ui->focus) && param_info(ui, ui->focus)->choices) {
    open_menu(ui, CH_MENU_CHOICE);
  } else if (sym == XK_Return && valid_ref(ui, ui->focus)) {
    ch_ui_edit_start(ui, ui->focus.box, ui->focus.param);
  } else if (sym == XK_Page_Up || sym == XK_Page_Down) {
    step_program(ui, sym == XK_Page_Up ? -1 : 1);
  } else if (sym == XK_p && ui->client.n_bank) {
    open_menu(ui, CH_MENU_PROGRAM);
  } else if (sym == XK_Delete) {
    delete_selection(ui);
  } else if (sym == XK_Escape) {
    choose_none(ui);
    ui->focus.box      = -1;
    ui->selected_box   = -1;
    ui->selected_cable = -1;
    ui->dirty          = true;
  }
}
