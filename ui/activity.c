/* Per-module activity: the UI asks the plugin for its modules' peaks
   (patch:Get of ch:activity, from idle, once the last answer is in) and
   shows each as a dot on its box, redrawn only when a dot changes. */
#include "ui.h"

#include <math.h>

/* Idle calls to wait for an answer before asking again (one lost in a
   full notify buffer must not stop the dots). */
#define PATIENCE 30u

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

void
ch_ui_on_activity(ChUi* const ui, const ChMsg* const msg)
{
  const ChClient* const c = &ui->client;
  if (msg->offset + msg->n_points >= msg->total) {
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
    const uint8_t step = step_of(msg->points[i]);
    if (ui->scene.boxes[box].activity != step) {
      ui->scene.boxes[box].activity = step;
      ui->dirty                     = true;
    }
  }
}

void
ch_ui_draw_activity(cairo_t* const cr, const ChUi* const ui, const uint32_t box)
{
  const ChBox* const b = &ui->scene.boxes[box];
  /* A module with no outputs of its own (the output) shows the meter. */
  const uint8_t step = b->kind->n_outputs ? b->activity : step_of(ui->meter);
  const ChRect  r    = b->rect;
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
