/* Drawing with cairo and pango: the canvas (cables, boxes, ports,
   parameters), the header (program, generation, level, file, error) and
   the open list. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  double r;
  double g;
  double b;
} Rgb;

static const Rgb c_background = { 0.114, 0.125, 0.145 };
static const Rgb c_header     = { 0.075, 0.082, 0.098 };
static const Rgb c_box        = { 0.188, 0.208, 0.239 };
static const Rgb c_box_voiced = { 0.208, 0.196, 0.263 };
static const Rgb c_border     = { 0.345, 0.373, 0.420 };
static const Rgb c_text       = { 0.910, 0.918, 0.929 };
static const Rgb c_dim        = { 0.580, 0.612, 0.659 };
static const Rgb c_row        = { 0.133, 0.149, 0.173 };
static const Rgb c_fill       = { 0.231, 0.412, 0.541 };
static const Rgb c_accent     = { 0.996, 0.749, 0.255 };
static const Rgb c_error      = { 1.000, 0.420, 0.400 };
static const Rgb c_signal[]   = {
    { 0.957, 0.604, 0.188 }, /* audio: orange */
    { 0.310, 0.706, 0.906 }, /* cv: blue */
    { 0.486, 0.859, 0.427 }, /* gate: green */
};

static void
set_rgb(cairo_t* const cr, const Rgb c, const double alpha)
{
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

static void
rounded(cairo_t* const cr,
        const double   x,
        const double   y,
        const double   w,
        const double   h,
        const double   r)
{
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

typedef enum { LEFT, CENTER, RIGHT, LEFT_MIDDLE_CUT } Align;

/* Text in one line, vertically centred on `y`, cut with an ellipsis to
   `width` (if > 0). */
static void
text(cairo_t* const                    cr,
     PangoLayout* const                layout,
     const PangoFontDescription* const font,
     const char* const                 s,
     const double                      x,
     const double                      y,
     const double                      width,
     const Align                       align)
{
  pango_layout_set_font_description(layout, font);
  pango_layout_set_text(layout, s, -1);
  pango_layout_set_width(layout, width > 0 ? (int)(width * PANGO_SCALE) : -1);
  /* Paths and errors keep both ends: where, and what went wrong. */
  pango_layout_set_ellipsize(layout, width <= 0 ? PANGO_ELLIPSIZE_NONE
                                     : align == LEFT_MIDDLE_CUT
                                       ? PANGO_ELLIPSIZE_MIDDLE
                                       : PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment(layout, align == CENTER  ? PANGO_ALIGN_CENTER
                                     : align == RIGHT ? PANGO_ALIGN_RIGHT
                                                      : PANGO_ALIGN_LEFT);
  int w = 0;
  int h = 0;
  pango_layout_get_pixel_size(layout, &w, &h);
  double left = x;
  if (width <= 0 && (align == CENTER || align == RIGHT)) {
    left = align == CENTER ? x - w / 2.0 : x - w;
  }
  cairo_move_to(cr, left, y - h / 2.0);
  pango_cairo_show_layout(cr, layout);
  cairo_new_path(cr); /* or the next arc would start with a line from here */
}

/* ---- Canvas ---------------------------------------------------------------
 */

static bool
cable_hot(const ChUi* const ui, const ChCable* const c)
{
  return ui->hover.box >= 0 &&
         ((int)c->from_box == ui->hover.box || (int)c->to_box == ui->hover.box);
}

/* A cable of the hovered module is drawn thick and bright, the others
   dim while one is hovered. */
static void
draw_cable(cairo_t* const cr, const ChUi* const ui, const ChCable* const c)
{
  const bool        hot = cable_hot(ui, c);
  const bool        dim = !hot && ui->hover.box >= 0;
  const ChCableEnds e   = ch_cable_ends(&ui->scene, c);
  const double      dx  = fmax(40.0, fabs(e.x1 - e.x0) * 0.5);
  cairo_move_to(cr, e.x0, e.y0);
  cairo_curve_to(cr, e.x0 + dx, e.y0, e.x1 - dx, e.y1, e.x1, e.y1);
  cairo_set_line_width(cr, hot                            ? 3.5
                           : c->signal == CH_SIGNAL_AUDIO ? 2.4
                                                          : 1.8);
  set_rgb(cr, c_signal[c->signal], dim ? 0.35 : hot ? 1.0 : 0.85);
  cairo_stroke(cr);
}

/* Several cables into one input are summed: a badge with their number. */
static void
draw_fan_in(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  const ChScene* const scene = &ui->scene;
  for (uint32_t i = 0; i < scene->n_cables; ++i) {
    const ChCable* const c     = &scene->cables[i];
    bool                 first = true;
    for (uint32_t k = 0; k < i && first; ++k) {
      first = !(scene->cables[k].to_box == c->to_box &&
                scene->cables[k].to_port == c->to_port);
    }
    if (c->fan_in < 2 || !first) {
      continue;
    }
    float x = 0.0f;
    float y = 0.0f;
    ch_box_port_pos(&scene->boxes[c->to_box], false, c->to_port, &x, &y);
    cairo_arc(cr, x - 11.0, y, 6.5, 0, 2 * M_PI);
    set_rgb(cr, c_background, 1.0);
    cairo_fill_preserve(cr);
    set_rgb(cr, c_signal[c->signal], 1.0);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
    char n[8];
    snprintf(n, sizeof(n), "%u", c->fan_in);
    set_rgb(cr, c_text, 1.0);
    text(cr, layout, ui->font_small, n, x - 11.0, y, 0, CENTER);
  }
}

static void
draw_ports(cairo_t* const     cr,
           PangoLayout* const layout,
           const ChUi* const  ui,
           const ChBox* const box)
{
  const ChKind* const k = box->kind;
  for (uint32_t out = 0; out < 2; ++out) {
    const uint32_t n = out ? k->n_outputs : k->n_inputs;
    for (uint32_t p = 0; p < n; ++p) {
      const ChPortInfo* const info = out ? &k->outputs[p] : &k->inputs[p];
      float                   x    = 0.0f;
      float                   y    = 0.0f;
      ch_box_port_pos(box, out, p, &x, &y);
      cairo_arc(cr, x, y, 4.0, 0, 2 * M_PI);
      set_rgb(cr, c_signal[info->signal], 1.0);
      cairo_fill(cr);
      set_rgb(cr, c_dim, 1.0);
      text(cr, layout, ui->font_small, info->name, out ? x - 8.0 : x + 8.0, y,
           0, out ? RIGHT : LEFT);
    }
  }
}

/* Parameter `p` of box `index`: its bar, and a ring if it has the focus. */
static void
draw_param(cairo_t* const     cr,
           PangoLayout* const layout,
           const ChUi* const  ui,
           const uint32_t     index,
           const uint32_t     p)
{
  const ChBox* const       box  = &ui->scene.boxes[index];
  const ChParamInfo* const info = &box->kind->params[p];
  const ChRect             r    = ch_box_param_rect(box, p);
  const float              v    = box->params[p];
  rounded(cr, r.x, r.y, r.w, r.h, 3.0);
  set_rgb(cr, c_row, 1.0);
  cairo_fill(cr);
  if (!info->choices) {
    const double w = r.w * ch_param_to_norm(info, v);
    if (w > 0.5) {
      rounded(cr, r.x, r.y, fmax(w, 3.0), r.h, 3.0);
      set_rgb(cr, c_fill, 1.0);
      cairo_fill(cr);
    }
  }
  if (ui->focus.box == (int)index && ui->focus.param == (int)p) {
    rounded(cr, r.x - 0.5, r.y - 0.5, r.w + 1.0, r.h + 1.0, 3.0);
    set_rgb(cr, c_accent, 1.0);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
  }
  char value[48];
  ch_param_format(info, v, value, sizeof(value) - 4);
  if (info->choices) {
    strcat(value, " \u25be"); /* a list: the arrow says it opens */
  }
  const double cy = r.y + r.h / 2.0;
  if (ui->editing.box == (int)index &&
      ui->editing.param == (int)p) { /* typing a value: a field, a caret */
    snprintf(value, sizeof(value), "%s|", ui->edit_text);
    cairo_rectangle(cr, r.x + r.w * 0.45, r.y + 1.0, r.w * 0.55 - 1.0,
                    r.h - 2.0);
    set_rgb(cr, ui->edit_bad ? c_error : c_accent, ui->edit_fresh ? 0.6 : 0.35);
    cairo_fill(cr);
  }
  set_rgb(cr, c_dim, 1.0);
  text(cr, layout, ui->font, info->name, r.x + 5.0, cy, r.w * 0.5, LEFT);
  set_rgb(cr, c_text, 1.0);
  text(cr, layout, ui->font, value, r.x + r.w - 5.0, cy, 0, RIGHT);
}

/* The box and its frame: red when the current error names it, amber when
   selected, dashed while a staged edit adds it, bright under the pointer. */
static void
box_frame(cairo_t* const cr, const ChUi* const ui, const uint32_t index)
{
  const ChBox* const box = &ui->scene.boxes[index];
  const ChRect       r   = box->rect;
  const bool hot = ui->hover.box == (int)index || ui->focus.box == (int)index;
  const bool chosen = ui->selected_box == (int)index || box->chosen;
  const bool named  = ch_ui_flagged(ui, (int)index);
  const bool fresh =
    ui->pending && ch_model_find(ui->client.model, box->name) < 0;
  rounded(cr, r.x, r.y, r.w, r.h, 6.0);
  set_rgb(cr, box->voiced ? c_box_voiced : c_box, 1.0);
  cairo_fill_preserve(cr);
  set_rgb(cr,
          named             ? c_error
          : chosen || fresh ? c_accent
          : hot             ? c_text
                            : c_border,
          hot && !named ? 0.8 : 1.0);
  cairo_set_line_width(cr, named || chosen || fresh ? 2.5 : hot ? 1.6 : 1.0);
  const double dash[] = { 5.0, 3.0 };
  cairo_set_dash(cr, dash, fresh ? 2 : 0, 0.0);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0.0);
}

static void
draw_box(cairo_t* const     cr,
         PangoLayout* const layout,
         const ChUi* const  ui,
         const uint32_t     index)
{
  const ChBox* const box = &ui->scene.boxes[index];
  const ChRect       r   = box->rect;
  char               share[8];
  const bool         cpu = ch_ui_cpu_label(ui, index, share, sizeof(share));
  box_frame(cr, ui, index);

  set_rgb(cr, c_text, 1.0);
  if (ui->renaming == (int)index) { /* typing a new name: a field, a caret */
    char shown[CH_NAME_MAX + 2];
    snprintf(shown, sizeof(shown), "%s|", ui->rename_text);
    cairo_rectangle(cr, r.x + 4.0, r.y + 2.0, r.w - 8.0, 18.0);
    set_rgb(cr, c_accent, 0.35);
    cairo_fill(cr);
    set_rgb(cr, c_text, 1.0);
    text(cr, layout, ui->font_bold, shown, r.x + 8.0, r.y + 11.0, r.w - 16.0,
         LEFT);
  } else {
    text(cr, layout, ui->font_bold, box->name, r.x + 8.0, r.y + 11.0,
         r.w - (cpu ? 50.0 : 16.0), LEFT);
  }
  set_rgb(cr, c_dim, 1.0);
  text(cr, layout, ui->font_small, box->kind->name, r.x + 8.0, r.y + 25.0,
       r.w * 0.5, LEFT);
  if (box->voiced) {
    /* Per voice: one copy of this module plays each note. */
    char label[32];
    snprintf(label, sizeof(label), "per voice \u00d7%u", ui->scene.polyphony);
    rounded(cr, r.x + r.w - 78.0, r.y + 18.0, 70.0, 13.0, 6.5);
    set_rgb(cr, c_accent, 0.25);
    cairo_fill(cr);
    set_rgb(cr, c_accent, 1.0);
    text(cr, layout, ui->font_small, label, r.x + r.w - 43.0, r.y + 24.5, 0,
         CENTER);
  }
  ch_ui_draw_activity(cr, ui, index);
  if (cpu) { /* its share of the graph's time, beside the dot */
    set_rgb(cr, c_dim, 1.0);
    text(cr, layout, ui->font_small, share, r.x + r.w - 17.0, r.y + 10.0, 0,
         RIGHT);
  }
  draw_ports(cr, layout, ui, box);
  for (uint32_t p = 0; p < box->kind->n_params; ++p) {
    draw_param(cr, layout, ui, index, p);
  }
}

/* While a cable is carried: every input it may go to ringed, the one under
   the pointer filled, and the cable itself from its output to there. */
static void
draw_carried_cable(cairo_t* const cr, const ChUi* const ui)
{
  const ChScene* const scene  = &ui->scene;
  const ChBox* const   source = &scene->boxes[ui->cable_box];
  const ChSignal       signal = source->kind->outputs[ui->cable_port].signal;
  for (uint32_t b = 0; b < scene->n_boxes; ++b) {
    for (uint32_t p = 0;
         (int)b != ui->cable_box && p < scene->boxes[b].kind->n_inputs; ++p) {
      float x = 0.0f;
      float y = 0.0f;
      ch_box_port_pos(&scene->boxes[b], false, p, &x, &y);
      const bool under =
        ui->cable_target.box == (int)b && ui->cable_target.index == (int)p;
      cairo_arc(cr, x, y, under ? 7.0 : 6.0, 0, 2 * M_PI);
      set_rgb(cr, c_signal[scene->boxes[b].kind->inputs[p].signal],
              under ? 1.0 : 0.6);
      cairo_set_line_width(cr, 1.5);
      if (under) {
        cairo_fill(cr);
      } else {
        cairo_stroke(cr);
      }
    }
  }
  float x0 = 0.0f;
  float y0 = 0.0f;
  float x1 = ui->cable_x;
  float y1 = ui->cable_y;
  ch_box_port_pos(source, true, (uint32_t)ui->cable_port, &x0, &y0);
  if (ui->cable_target.box >= 0) {
    ch_box_port_pos(&scene->boxes[ui->cable_target.box], false,
                    (uint32_t)ui->cable_target.index, &x1, &y1);
  }
  const double dx = fmax(40.0, fabs(x1 - x0) * 0.5);
  cairo_move_to(cr, x0, y0);
  cairo_curve_to(cr, x0 + dx, y0, x1 - dx, y1, x1, y1);
  const double dash[] = { 6.0, 4.0 };
  cairo_set_dash(cr, dash, 2, 0.0);
  cairo_set_line_width(cr, 2.5);
  set_rgb(cr, c_signal[signal], 1.0);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0.0);
}

static void
draw_canvas(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  const ChView* const v = &ui->view;
  cairo_save(cr);
  cairo_rectangle(cr, v->left, v->top, v->width, v->height);
  cairo_clip(cr);
  cairo_translate(cr, v->left, v->top);
  cairo_scale(cr, v->zoom, v->zoom);
  cairo_translate(cr, -v->origin_x, -v->origin_y);
  for (uint32_t i = 0; i < ui->scene.n_cables; ++i) {
    const ChCable* const c = &ui->scene.cables[i];
    if (ui->drag == CH_DRAG_CABLE && (int)i == ui->cable_old) {
      continue; /* carried: drawn loose below */
    }
    if (!cable_hot(ui, c)) {
      draw_cable(cr, ui, c);
    }
  }
  for (uint32_t i = 0; i < ui->scene.n_boxes; ++i) {
    draw_box(cr, layout, ui, i);
  }
  /* The hovered module's cables on top, so they can be followed. */
  for (uint32_t i = 0; i < ui->scene.n_cables; ++i) {
    const ChCable* const c = &ui->scene.cables[i];
    if (cable_hot(ui, c) &&
        !(ui->drag == CH_DRAG_CABLE && (int)i == ui->cable_old)) {
      draw_cable(cr, ui, c);
    }
  }
  draw_fan_in(cr, layout, ui);
  if (ui->drag == CH_DRAG_CABLE) {
    draw_carried_cable(cr, ui);
  }
  if (ui->drag == CH_DRAG_BAND) {
    const double dash[] = { 4.0 / ui->view.zoom, 3.0 / ui->view.zoom };
    cairo_rectangle(cr, ui->band[0], ui->band[1], ui->band[2] - ui->band[0],
                    ui->band[3] - ui->band[1]);
    set_rgb(cr, c_accent, 0.9);
    cairo_set_line_width(cr, 1.2 / ui->view.zoom);
    cairo_set_dash(cr, dash, 2, 0.0);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
  }
  cairo_restore(cr);
  if (!ui->client.have_patch) {
    set_rgb(cr, c_dim, 1.0);
    text(cr, layout, ui->font_bold, "waiting for the plugin's patch\u2026",
         v->left + v->width / 2, v->top + v->height / 2, 0, CENTER);
  }
}

/* ---- Header ---------------------------------------------------------------
 */

/* The header's controls, left to right (one row, 20 px high). */
ChRect
ch_ui_header_rect(const ChHeaderSpot spot)
{
  static const ChRect spots[CH_HEADER_N_SPOTS] = {
    [CH_HEADER_PROGRAM] = { 8.0f, 5.0f, 240.0f, 20.0f },
    [CH_HEADER_STAGED]  = { 360.0f, 5.0f, 86.0f, 20.0f },
    [CH_HEADER_COMMIT]  = { 452.0f, 5.0f, 130.0f, 20.0f },
    [CH_HEADER_ABORT]   = { 588.0f, 5.0f, 60.0f, 20.0f },
    [CH_HEADER_VOICES]  = { 656.0f, 5.0f, 84.0f, 20.0f },
  };
  return spots[spot];
}

static void
button(cairo_t* const     cr,
       PangoLayout* const layout,
       const ChUi* const  ui,
       const ChRect       r,
       const char* const  label,
       const bool         lit)
{
  rounded(cr, r.x, r.y, r.w, r.h, 4.0);
  set_rgb(cr, lit ? c_fill : c_box, 1.0);
  cairo_fill(cr);
  set_rgb(cr, c_text, 1.0);
  text(cr, layout, ui->font, label, r.x + r.w / 2, r.y + r.h / 2, 0, CENTER);
}

/* Staged mode's switch, and its Commit and Abort while edits wait. */
static void
draw_stage(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  button(cr, layout, ui, ch_ui_header_rect(CH_HEADER_STAGED),
         ui->staged ? "staged \u2713" : "staged", ui->staged);
  if (ui->pending) {
    char label[48];
    snprintf(label, sizeof(label), "Commit %u edit%s", ui->pending,
             ui->pending == 1 ? "" : "s");
    button(cr, layout, ui, ch_ui_header_rect(CH_HEADER_COMMIT), label, true);
    button(cr, layout, ui, ch_ui_header_rect(CH_HEADER_ABORT), "Abort", false);
  }
  char voices[32];
  snprintf(voices, sizeof(voices), "%u voice%s \u25be", ui->scene.polyphony,
           ui->scene.polyphony == 1 ? "" : "s");
  button(cr, layout, ui, ch_ui_header_rect(CH_HEADER_VOICES), voices,
         ui->menu == CH_MENU_VOICES);
}

/* The output level, at the right end of the header's first row. */
static void
draw_meter(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  const double x = ui->view.width - 160.0;
  const double y = ch_ui_header_rect(CH_HEADER_PROGRAM).y + 3.0;
  const double w = 150.0;
  rounded(cr, x, y, w, 9.0, 2.0);
  set_rgb(cr, c_row, 1.0);
  cairo_fill(cr);
  const float  peak = ui->client.level[0];
  const double db   = peak > 1e-6f ? 20.0 * log10(peak) : -120.0;
  const double frac = fmin(fmax((db + 60.0) / 60.0, 0.0), 1.0);
  if (frac > 0.0) { /* -60 .. 0 dBFS */
    rounded(cr, x, y, fmax(w * frac, 4.0), 9.0, 2.0);
    const Rgb green = { 0.40, 0.85, 0.45 };
    set_rgb(cr, db > -1.0 ? c_error : db > -12.0 ? c_accent : green, 1.0);
    cairo_fill(cr);
  }
  for (int mark = -48; mark < 0; mark += 12) { /* ticks every 12 dB */
    cairo_rectangle(cr, x + w * (mark + 60.0) / 60.0, y, 1.0, 9.0);
    set_rgb(cr, c_header, 0.8);
    cairo_fill(cr);
  }
  set_rgb(cr, c_dim, 1.0);
  text(cr, layout, ui->font_small, "out", x - 6.0, y + 4.5, 0, RIGHT);
}

static void
draw_header(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  const double width = ui->view.width;
  cairo_rectangle(cr, 0, 0, width, CH_HEADER_H);
  set_rgb(cr, c_header, 1.0);
  cairo_fill(cr);

  const ChRect r       = ch_ui_header_rect(CH_HEADER_PROGRAM);
  const int    program = (int)lroundf(ui->client.program);
  const char*  label   = ch_client_program_label(&ui->client, program);
  char         buf[CH_PATH_MAX + 32];
  snprintf(buf, sizeof(buf), "%02d  %s%s", program,
           label ? label : "(not in bank)",
           ui->client.edited ? "  (edited)" : "");
  rounded(cr, r.x, r.y, r.w, r.h, 4.0);
  set_rgb(cr, ui->menu == CH_MENU_PROGRAM ? c_fill : c_box, 1.0);
  cairo_fill(cr);
  set_rgb(cr, c_text, 1.0);
  text(cr, layout, ui->font_bold, buf, r.x + 8.0, r.y + r.h / 2, r.w - 30.0,
       LEFT);
  text(cr, layout, ui->font, "\u25be", r.x + r.w - 8.0, r.y + r.h / 2, 0,
       RIGHT);

  set_rgb(cr, c_dim, 1.0);
  if (ui->client.generation >= 0) {
    snprintf(buf, sizeof(buf), "commit %lld", (long long)ui->client.generation);
  } else {
    buf[0] = '\0'; /* not told yet */
  }
  text(cr, layout, ui->font, buf, r.x + r.w + 14.0, r.y + r.h / 2, 0, LEFT);
  draw_meter(cr, layout, ui);
  draw_stage(cr, layout, ui);

  const double y2 = 37.0;
  set_rgb(cr, c_dim, 1.0);
  if (ui->client.file[0]) {
    snprintf(buf, sizeof(buf), "file: %s", ui->client.file);
  } else {
    snprintf(buf, sizeof(buf), "no patch file");
  }
  text(cr, layout, ui->font_small, buf, 10.0, y2, width * 0.30,
       LEFT_MIDDLE_CUT);
  if (ui->client.error[0]) {
    /* A commit since the error: it is history, shown dimmed. */
    const bool old = ui->client.newest > ui->client.error_generation;
    snprintf(buf, sizeof(buf), "%s%s", old ? "before this commit: " : "\u26a0 ",
             ui->client.error);
    set_rgb(cr, old ? c_dim : c_error, 1.0);
    text(cr, layout, ui->font, buf, width * 0.32, y2, width * 0.68 - 10.0,
         LEFT_MIDDLE_CUT);
  }
}

/* ---- Lists ----------------------------------------------------------------
 */

#define MENU_ROW    19.0f
#define KINDS_SHOWN 16 /* rows of the kinds list; typing narrows it */
#define KINDS_W     400.0f

int
ch_ui_menu_count(const ChUi* const ui)
{
  if (ui->menu == CH_MENU_PROGRAM) {
    return (int)ui->client.n_bank;
  }
  if (ui->menu == CH_MENU_KINDS) {
    const int n = ch_ui_kinds_count(ui);
    return n < KINDS_SHOWN ? n : KINDS_SHOWN;
  }
  if (ui->menu == CH_MENU_VOICES) {
    return (int)CH_MAX_VOICES;
  }
  if (ui->menu == CH_MENU_CHOICE && ui->focus.box >= 0 &&
      (uint32_t)ui->focus.box < ui->scene.n_boxes) {
    const ChBox* const box = &ui->scene.boxes[ui->focus.box];
    return (int)ch_param_n_choices(&box->kind->params[ui->focus.param]);
  }
  return 0;
}

ChRect
ch_ui_menu_item_rect(const ChUi* const ui, const int item)
{
  ChRect r = ch_ui_header_rect(CH_HEADER_PROGRAM);
  if (ui->menu == CH_MENU_VOICES) {
    r = ch_ui_header_rect(CH_HEADER_VOICES);
  } else if (ui->menu == CH_MENU_KINDS) {
    ch_view_to_window(&ui->view, ui->add_x, ui->add_y, &r.x, &r.y);
    /* Keep the list inside the window. */
    r.x = fminf(r.x, ui->view.width - KINDS_W - 4.0f);
    r.y = fminf(r.y, ui->view.top + ui->view.height - MENU_ROW * KINDS_SHOWN -
                       2.0f * r.h - 6.0f);
    r.w = KINDS_W;
  } else if (ui->menu == CH_MENU_CHOICE && ui->focus.box >= 0) {
    const ChBox* const box = &ui->scene.boxes[ui->focus.box];
    const ChRect       pr  = ch_box_param_rect(box, (uint32_t)ui->focus.param);
    ch_view_to_window(&ui->view, pr.x + pr.w * 0.4f, pr.y + pr.h, &r.x, &r.y);
    r.w = 120.0f;
  }
  r.y += r.h + 2.0f + (float)item * MENU_ROW;
  r.h = MENU_ROW;
  return r;
}

/* The kinds list's first line: what was typed, or how to narrow it. */
static void
draw_filter(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  ChRect r = ch_ui_menu_item_rect(ui, 0);
  r.y -= r.h + 2.0f;
  rounded(cr, r.x - 2.0, r.y - 2.0, r.w + 4.0, r.h + 4.0, 4.0);
  set_rgb(cr, c_box, 1.0);
  cairo_fill(cr);
  char buf[64];
  snprintf(buf, sizeof(buf), "add: %s\u2581", ui->filter);
  set_rgb(cr, ui->filter[0] ? c_text : c_dim, 1.0);
  text(cr, layout, ui->font,
       ui->filter[0] ? buf : "add a module: type to filter", r.x + 8.0,
       r.y + r.h / 2, r.w - 12.0, LEFT);
}

static void
draw_menu(cairo_t* const cr, PangoLayout* const layout, const ChUi* const ui)
{
  if (ui->menu == CH_MENU_KINDS) {
    draw_filter(cr, layout, ui);
  }
  const int n = ch_ui_menu_count(ui);
  if (!n) {
    return;
  }
  const ChRect first = ch_ui_menu_item_rect(ui, 0);
  rounded(cr, first.x - 2.0, first.y - 2.0, first.w + 4.0,
          (double)n * MENU_ROW + 4.0, 4.0);
  set_rgb(cr, c_header, 0.97);
  cairo_fill_preserve(cr);
  set_rgb(cr, c_border, 1.0);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  for (int i = 0; i < n; ++i) {
    const ChRect        r = ch_ui_menu_item_rect(ui, i);
    char                buf[CH_LABEL_MAX + 8];
    const ChKind* const kind =
      ui->menu == CH_MENU_KINDS ? ch_ui_kind_at(ui, i) : NULL;
    if (ui->menu == CH_MENU_PROGRAM) {
      snprintf(buf, sizeof(buf), "%02d  %s", ui->client.bank[i].number,
               ui->client.bank[i].label);
    } else if (kind) {
      snprintf(buf, sizeof(buf), "%s", kind->name);
    } else if (ui->menu == CH_MENU_VOICES) {
      snprintf(buf, sizeof(buf), "%d voice%s", i + 1, i ? "s" : "");
    } else {
      const ChBox* const box = &ui->scene.boxes[ui->focus.box];
      snprintf(buf, sizeof(buf), "%s",
               box->kind->params[ui->focus.param].choices[i]);
    }
    if (i == ui->menu_hover) {
      rounded(cr, r.x, r.y, r.w, r.h, 3.0);
      set_rgb(cr, c_fill, 1.0);
      cairo_fill(cr);
    }
    set_rgb(cr, c_text, 1.0);
    text(cr, layout, kind ? ui->font_bold : ui->font, buf, r.x + 8.0,
         r.y + r.h / 2, kind ? 70.0 : r.w - 12.0, LEFT);
    if (kind) { /* what it is, in one line */
      set_rgb(cr, c_dim, 1.0);
      text(cr, layout, ui->font_small, kind->doc, r.x + 82.0, r.y + r.h / 2,
           r.w - 90.0, LEFT);
    }
  }
}

/* The picture is drawn in memory and copied to the window in one go: no
   flicker, and no text drawn on the X server, whose glyph caches cairo
   shares between displays (two instances in one host process tripped over
   each other's glyphs when one closed). */
static cairo_surface_t*
back_buffer(ChUi* const ui)
{
  if (ui->back && (cairo_image_surface_get_width(ui->back) != ui->width ||
                   cairo_image_surface_get_height(ui->back) != ui->height)) {
    cairo_surface_destroy(ui->back);
    ui->back = NULL;
  }
  if (!ui->back) {
    ui->back =
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, ui->width, ui->height);
  }
  return ui->back;
}

void
ch_ui_draw(ChUi* const ui)
{
  cairo_t* const cr = cairo_create(back_buffer(ui));
  cairo_scale(cr, ui->scale, ui->scale);
  set_rgb(cr, c_background, 1.0);
  cairo_paint(cr);
  PangoLayout* const layout = pango_cairo_create_layout(cr);
  draw_canvas(cr, layout, ui);
  draw_header(cr, layout, ui);
  ch_ui_draw_scope(cr, layout, ui);
  draw_menu(cr, layout, ui);
  if (ui->focused) { /* keyboard focus is ours: say so */
    cairo_rectangle(cr, 1.0, 1.0, ui->view.width - 2.0,
                    ui->view.top + ui->view.height - 2.0);
    set_rgb(cr, c_accent, 0.6);
    cairo_set_line_width(cr, 2.0);
    cairo_stroke(cr);
  }
  g_object_unref(layout);
  cairo_destroy(cr);
  cairo_t* const win = cairo_create(ui->surface);
  cairo_set_source_surface(win, ui->back, 0, 0);
  cairo_set_operator(win, CAIRO_OPERATOR_SOURCE);
  cairo_paint(win);
  cairo_destroy(win);
  cairo_surface_flush(ui->surface);
  XFlush(ui->dpy);
}
