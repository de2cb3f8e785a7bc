/* The test probe (probe.h): read-only views of the UI's state. */
#include "probe.h"

#include "ui.h"

#include <math.h>

static ChUiSeen
seen(void* const handle)
{
  const ChUi* const ui = (const ChUi*)handle;
  return (ChUiSeen){
    .boxes      = ui->scene.n_boxes,
    .cables     = ui->scene.n_cables,
    .error      = ui->client.error,
    .file       = ui->client.file,
    .generation = ui->client.generation,
    .patches    = ui->client.received,
    .redraws    = ui->redraws,
    .level      = ui->meter,
    .zoom       = ui->view.zoom,
  };
}

static const char*
box_name(void* const handle, const uint32_t i)
{
  const ChUi* const ui = (const ChUi*)handle;
  return i < ui->scene.n_boxes ? ui->scene.boxes[i].name : NULL;
}

static bool
find(const ChUi* const ui,
     const char* const module,
     const char* const param,
     int* const        box,
     int* const        index)
{
  *box = ch_scene_find(&ui->scene, module);
  *index =
    *box >= 0 ? ch_kind_find_param(ui->scene.boxes[*box].kind, param) : -1;
  return *index >= 0;
}

/* 1 if the module is chosen (or the selected one), 0 if not, -1 if not
   shown. */
static int
chosen(void* const handle, const char* const module)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  return b < 0 ? -1 : ui->scene.boxes[b].chosen || ui->selected_box == b;
}

/* Canvas point to window pixels; false if outside the canvas area. */
static bool
to_pixels(const ChUi* const ui,
          const float       cx,
          const float       cy,
          int* const        x,
          int* const        y)
{
  float wx = 0.0f;
  float wy = 0.0f;
  ch_view_to_window(&ui->view, cx, cy, &wx, &wy);
  *x = (int)lroundf(wx * ui->scale);
  *y = (int)lroundf(wy * ui->scale);
  return wy > ui->view.top && *x >= 0 && *x < ui->width && *y < ui->height;
}

static bool
param_point(void* const       handle,
            const char* const module,
            const char* const param,
            int* const        x,
            int* const        y)
{
  const ChUi* const ui = (const ChUi*)handle;
  int               b  = -1;
  int               p  = -1;
  if (!find(ui, module, param, &b, &p)) {
    return false;
  }
  const ChRect r = ch_box_param_rect(&ui->scene.boxes[b], (uint32_t)p);
  return to_pixels(ui, r.x + r.w * 0.5f, r.y + r.h * 0.5f, x, y);
}

static bool
param_value(void* const       handle,
            const char* const module,
            const char* const param,
            float* const      value)
{
  const ChUi* const ui = (const ChUi*)handle;
  int               b  = -1;
  int               p  = -1;
  if (!find(ui, module, param, &b, &p)) {
    return false;
  }
  *value = ui->scene.boxes[b].params[p];
  return true;
}

static bool
menu_point(void* const handle, const int i, int* const x, int* const y)
{
  const ChUi* const ui = (const ChUi*)handle;
  if (ui->menu == CH_MENU_NONE || i < 0 || i >= ch_ui_menu_count(ui)) {
    return false;
  }
  const ChRect r = ch_ui_menu_item_rect(ui, i);
  *x             = (int)lroundf((r.x + r.w * 0.5f) * ui->scale);
  *y             = (int)lroundf((r.y + r.h * 0.5f) * ui->scale);
  return true;
}

static bool
port_point(void* const       handle,
           const char* const module,
           const char* const port,
           const bool        output,
           int* const        x,
           int* const        y)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  if (b < 0) {
    return false;
  }
  const ChKind* const k = ui->scene.boxes[b].kind;
  const int           p =
    output ? ch_kind_find_output(k, port) : ch_kind_find_input(k, port);
  float cx = 0.0f;
  float cy = 0.0f;
  if (p < 0) {
    return false;
  }
  ch_box_port_pos(&ui->scene.boxes[b], output, (uint32_t)p, &cx, &cy);
  return to_pixels(ui, cx, cy, x, y);
}

static bool
title_point(void* const       handle,
            const char* const module,
            int* const        x,
            int* const        y)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  if (b < 0) {
    return false;
  }
  const ChRect r = ui->scene.boxes[b].rect;
  return to_pixels(ui, r.x + r.w * 0.3f, r.y + 10.0f, x, y);
}

static bool
cable_point(void* const       handle,
            const char* const module,
            const char* const input,
            int* const        x,
            int* const        y)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  const int p = b < 0 ? -1 : ch_kind_find_input(ui->scene.boxes[b].kind, input);
  for (uint32_t i = ui->scene.n_cables; p >= 0 && i-- > 0;) {
    const ChCable* const c = &ui->scene.cables[i];
    if ((int)c->to_box == b && (int)c->to_port == p) {
      /* Its middle, or the nearest point along it that no box covers. */
      static const float along[] = { 0.5f, 0.4f, 0.6f, 0.3f, 0.7f, 0.2f, 0.8f };
      float              cx      = 0.0f;
      float              cy      = 0.0f;
      for (size_t t = 0; t < CH_COUNT(along); ++t) {
        ch_cable_point(&ui->scene, c, along[t], &cx, &cy);
        if (ch_scene_hit(&ui->scene, cx, cy).kind == CH_HIT_NONE) {
          break;
        }
      }
      return to_pixels(ui, cx, cy, x, y);
    }
  }
  return false;
}

static bool
flagged(void* const handle, const char* const module)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  return b >= 0 && ch_ui_flagged(ui, b);
}

static unsigned
scope(void* const         handle,
      const float** const points,
      uint32_t* const     n,
      float* const        step,
      const char** const  module,
      const char** const  port)
{
  const ChUi* const ui = (const ChUi*)handle;
  *points              = ui->scope;
  *n                   = ui->scope_n;
  *step                = ui->scope_step;
  *module              = ui->probe_module;
  *port                = ui->probe_port;
  return ui->scopes;
}

static int
activity(void* const handle, const char* const module)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  return b < 0 ? -1 : ui->scene.boxes[b].activity;
}

static int
cpu(void* const handle, const char* const module)
{
  const ChUi* const ui = (const ChUi*)handle;
  const int         b  = ch_scene_find(&ui->scene, module);
  char              label[8];
  return b >= 0 && ch_ui_cpu_label(ui, (uint32_t)b, label, sizeof(label))
           ? ui->scene.boxes[b].cpu - 1
           : -1;
}

static bool
scope_point(void* const handle, int* const x, int* const y)
{
  const ChUi* const ui = (const ChUi*)handle;
  const ChRect      r  = ch_ui_scope_rect(ui);
  *x                   = (int)lroundf((r.x + r.w * 0.5f) * ui->scale);
  *y                   = (int)lroundf((r.y + r.h * 0.5f) * ui->scale);
  return r.w > 0.0f;
}

const ChUiProbe ch_ui_probe = {
  .seen        = seen,
  .box_name    = box_name,
  .param_point = param_point,
  .param_value = param_value,
  .menu_point  = menu_point,
  .port_point  = port_point,
  .title_point = title_point,
  .cable_point = cable_point,
  .flagged     = flagged,
  .scope       = scope,
  .scope_point = scope_point,
  .activity    = activity,
  .cpu         = cpu,
  .chosen      = chosen,
};
