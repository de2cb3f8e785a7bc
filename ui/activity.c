/* Per-module activity: the UI asks the plugin for its modules' peaks and
   CPU shares (patch:Get of ch:activity, from idle, once the last answer is
   in) and shows each as a dot on its box with the share beside it,
   redrawn only when a dot or a shown share changes. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Idle calls to wait for an answer before asking again (one lost in a
   full notify buffer must not stop the dots). */
#define PATIENCE 30u

/* Seconds a shown CPU share holds: the mean of the answers meanwhile
   replaces it if it differs by a fifth, at least 2 points, so it reads
   steadily instead of flickering per answer. */
#define CPU_HOLD_S 0.5

/* Percent from which a silent module's share shows too: one that costs
   without sounding (e.g. a filter nothing reads) is worth seeing. */
#define CPU_SILENT_SHOWN 5u

void
ch_ui_activity_idle(ChUi* const ui)
{
  if (ui->scene.n_boxes &&
      (!ui->activity_waiting || ++ui->activity_waiting > PATIENCE)) {
    ChMsg msg            = ch_msg_init(CH_MSG_GET);
    msg.property         = ui->uris.ch_activity;
    ui->activity_waiting = 1u;
    ch_ui_send(ui, &msg);
  }
}

/* A peak as a step of the dot: silent (below -60 dB), quiet (below
   -24 dB), sounding, loud (above -6 dB). */
static uint8_t
step_of(const float peak)
{
  return peak < 0.001f ? 0u : peak < 0.063f ? 1u : peak < 0.5f ? 2u : 3u;
}

/* The dot's step: a module with no outputs of its own (the output)
   shows the meter. */
static uint8_t
box_step(const ChUi* const ui, const ChBox* const b)
{
  return b->kind->n_outputs ? b->activity : step_of(ui->meter);
}

/* Whether a box shows its share: beside a lit dot, or when it is large. */
static bool
cpu_shown(const ChUi* const ui, const ChBox* const b)
{
  return b->cpu && (box_step(ui, b) || b->cpu - 1u >= CPU_SILENT_SHOWN);
}

/* Every CPU_HOLD_S: each box's shown share becomes the mean of those
   received meanwhile, if it moved enough; a change redraws only what
   shows. */
static void
show_cpu(ChUi* const ui)
{
  const double now = ch_ui_now();
  if (now - ui->cpu_shown < CPU_HOLD_S) {
    return;
  }
  ui->cpu_shown = now;
  for (uint32_t i = 0; i < ui->scene.n_boxes; ++i) {
    ChBox* const b = &ui->scene.boxes[i];
    if (!b->cpu_n) {
      continue;
    }
    const long pct  = lroundf(100.0f * b->cpu_sum / (float)b->cpu_n);
    const int  cpu  = 1 + (pct < 0 ? 0 : pct > 100 ? 100 : (int)pct);
    const int  move = b->cpu > 10u ? b->cpu / 5 : 2;
    b->cpu_sum      = 0.0f;
    b->cpu_n        = 0u;
    if (!b->cpu || abs(cpu - b->cpu) >= move) {
      const bool was = cpu_shown(ui, b);
      b->cpu         = (uint8_t)cpu;
      ui->dirty      = ui->dirty || was || cpu_shown(ui, b);
    }
  }
}

void
ch_ui_on_activity(ChUi* const ui, const ChMsg* const msg)
{
  const ChClient* const c    = &ui->client;
  const bool            last = msg->offset + msg->n_points >= msg->total;
  if (last) {
    ui->activity_waiting = 0u; /* the last piece: ask again */
  }
  /* Indices are of the model of that generation: the one shown, unless
     it is older or staged edits reorder the boxes (then by name). */
  if (!msg->points || msg->generation != c->generation) {
    return;
  }
  for (uint32_t i = 0; i < msg->n_points; ++i) {
    const uint32_t m = msg->offset + i;
    if (m >= ch_model_n_modules(c->model)) {
      break;
    }
    const int box =
      ui->preview ? ch_scene_find(&ui->scene, ch_model_module_name(c->model, m))
                  : (int)m;
    if (box < 0 || (uint32_t)box >= ui->scene.n_boxes) {
      continue;
    }
    ChBox* const  b    = &ui->scene.boxes[box];
    const uint8_t step = step_of(msg->points[i]);
    if (b->activity != step) {
      b->activity = step;
      ui->dirty   = true;
    }
    if (msg->cpu && b->cpu_n < UINT16_MAX) {
      b->cpu_sum += msg->cpu[i];
      ++b->cpu_n;
    }
  }
  if (last) {
    show_cpu(ui);
  }
}

bool
ch_ui_cpu_label(const ChUi* const ui,
                const uint32_t    box,
                char* const       label,
                const size_t      size)
{
  const ChBox* const b = &ui->scene.boxes[box];
  if (!cpu_shown(ui, b)) {
    return false;
  }
  if (b->cpu == 1u) {
    snprintf(label, size, "<1%%");
  } else {
    snprintf(label, size, "%u%%", (unsigned)(b->cpu - 1u));
  }
  return true;
}

void
ch_ui_draw_activity(cairo_t* const cr, const ChUi* const ui, const uint32_t box)
{
  const ChBox* const b    = &ui->scene.boxes[box];
  const uint8_t      step = box_step(ui, b);
  const ChRect       r    = b->rect;
  cairo_arc(cr, r.x + r.w - 10.0, r.y + 10.0, 3.5, 0.0, 2.0 * M_PI);
  if (step) {
    cairo_set_source_rgba(cr, 0.45, 0.95, 0.55, 0.35 + 0.65 * step / 3.0);
    cairo_fill(cr);
  } else {
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.25);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
  }
}
