/* The probe's oscilloscope: which output the UI asks the plugin for
   (ch:Probe, renewed while shown), and the panel that draws its frames. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Seconds between renewals: well inside the plugin's CH_SCOPE_TIMEOUT. */
#define RENEW_S 1.0

#define SCOPE_W 280.0f
#define SCOPE_H 150.0f

double
ch_ui_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
send_probe(ChUi* const ui)
{
  ChMsg msg      = ch_msg_init(CH_MSG_PROBE);
  msg.module     = ui->probe_module[0] ? ui->probe_module : NULL;
  msg.port       = ui->probe_module[0] ? ui->probe_port : NULL;
  ui->probe_sent = ch_ui_now();
  ch_ui_send(ui, &msg);
}

void
ch_ui_scope_stop(ChUi* const ui)
{
  if (ui->probe_module[0]) {
    ui->probe_module[0] = '\0';
    ui->scope_n         = 0;
    send_probe(ui);
    ui->dirty = true;
  }
}

void
ch_ui_scope_probe(ChUi* const ui, const int box, const int port)
{
  if (box < 0 || (uint32_t)box >= ui->scene.n_boxes) {
    return;
  }
  const ChBox* const b = &ui->scene.boxes[box];
  if (port < 0 || (uint32_t)port >= b->kind->n_outputs) {
    return;
  }
  const char* const name = b->kind->outputs[port].name;
  if (!strcmp(ui->probe_module, b->name) && !strcmp(ui->probe_port, name)) {
    ch_ui_scope_stop(ui); /* clicked again: put the probe away */
    return;
  }
  snprintf(ui->probe_module, sizeof(ui->probe_module), "%s", b->name);
  snprintf(ui->probe_port, sizeof(ui->probe_port), "%s", name);
  ui->scope_n = 0;
  send_probe(ui);
  ui->dirty = true;
}

void
ch_ui_scope_idle(ChUi* const ui)
{
  if (ui->probe_module[0] && ch_ui_now() - ui->probe_sent >= RENEW_S) {
    send_probe(ui);
  }
}

void
ch_ui_on_scope(ChUi* const ui, const ChMsg* const msg)
{
  /* A frame of a probe we put away, or of another UI's: not ours. */
  if (!ui->probe_module[0] || !msg->module || !msg->port ||
      strcmp(msg->module, ui->probe_module) ||
      strcmp(msg->port, ui->probe_port) || !msg->points) {
    return;
  }
  memcpy(ui->scope, msg->points, msg->n_points * sizeof(float));
  ui->scope_n    = msg->n_points;
  ui->scope_step = msg->step;
  ++ui->scopes;
  ui->dirty = true;
}

ChRect
ch_ui_scope_rect(const ChUi* const ui)
{
  if (!ui->probe_module[0]) {
    return (ChRect){ 0.0f, 0.0f, 0.0f, 0.0f };
  }
  const float w = (float)ui->width / ui->scale;
  const float h = (float)ui->height / ui->scale;
  return (ChRect){ w - SCOPE_W - 10.0f, h - SCOPE_H - 10.0f, SCOPE_W, SCOPE_H };
}

/* The amplitude the trace fills: a power of two at least its peak. */
static float
full_scale(const ChUi* const ui)
{
  float peak = 0.0f;
  for (uint32_t i = 0; i < ui->scope_n; ++i) {
    peak = fmaxf(peak, fabsf(ui->scope[i]));
  }
  float scale = 1.0f / 64.0f;
  while (scale < peak && scale < 65536.0f) {
    scale *= 2.0f;
  }
  return scale;
}

static void
text_at(cairo_t* const     cr,
        PangoLayout* const layout,
        const float        x,
        const float        y,
        const char* const  text)
{
  pango_layout_set_text(layout, text, -1);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
}

/* Ten divisions across, a centre line and four divisions up and down. */
static void
draw_grid(cairo_t* const cr, const ChRect p)
{
  cairo_set_line_width(cr, 1.0);
  cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.08);
  for (int i = 1; i < 10; ++i) {
    const double x = p.x + p.w * i / 10.0;
    cairo_move_to(cr, floor(x) + 0.5, p.y);
    cairo_line_to(cr, floor(x) + 0.5, p.y + p.h);
  }
  for (int i = 1; i < 4; ++i) {
    const double y = p.y + p.h * i / 4.0;
    cairo_move_to(cr, p.x, floor(y) + 0.5);
    cairo_line_to(cr, p.x + p.w, floor(y) + 0.5);
  }
  cairo_stroke(cr);
}

static void
draw_trace(cairo_t* const cr, const ChRect p, const ChUi* const ui)
{
  const float scale = full_scale(ui);
  cairo_set_source_rgb(cr, 0.45, 0.95, 0.55);
  cairo_set_line_width(cr, 1.5);
  for (uint32_t i = 0; i < ui->scope_n; ++i) {
    const double x = p.x + p.w * i / (double)(CH_SCOPE_POINTS - 1u);
    const double v = fmax(-1.0, fmin(1.0, ui->scope[i] / scale));
    const double y = p.y + p.h * 0.5 * (1.0 - v);
    if (i) {
      cairo_line_to(cr, x, y);
    } else {
      cairo_move_to(cr, x, y);
    }
  }
  cairo_stroke(cr);
}

void
ch_ui_draw_scope(cairo_t* const     cr,
                 PangoLayout* const layout,
                 const ChUi* const  ui)
{
  const ChRect r = ch_ui_scope_rect(ui);
  if (r.w <= 0.0f) {
    return;
  }
  cairo_rectangle(cr, r.x, r.y, r.w, r.h);
  cairo_set_source_rgba(cr, 0.05, 0.07, 0.08, 0.95);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.45, 0.95, 0.55);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  const ChRect plot = { r.x + 6.0f, r.y + 22.0f, r.w - 12.0f, r.h - 44.0f };
  draw_grid(cr, plot);
  draw_trace(cr, plot, ui);
  pango_layout_set_font_description(layout, ui->font_small);
  cairo_set_source_rgb(cr, 0.85, 0.9, 0.88);
  char text[128];
  snprintf(text, sizeof(text), "probe %s:%s  (click to close)",
           ui->probe_module, ui->probe_port);
  text_at(cr, layout, r.x + 6.0f, r.y + 3.0f, text);
  if (ui->scope_n) {
    const double div_ms = ui->scope_step * (CH_SCOPE_POINTS - 1u) / 10.0 * 1e3;
    snprintf(text, sizeof(text), "%.2f ms/div    \xc2\xb1%g full scale", div_ms,
             (double)full_scale(ui));
  } else {
    snprintf(text, sizeof(text), "waiting for the plugin...");
  }
  text_at(cr, layout, r.x + 6.0f, r.y + r.h - 19.0f, text);
}
