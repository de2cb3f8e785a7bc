/* The test probe (probe.h): read-only views of the UI's state. */
#include "probe.h"

#include "ui.h"

#include <math.h>

static uint32_t
n_boxes(void* const handle)
{
  return ((ChUi*)handle)->scene.n_boxes;
}

static uint32_t
n_cables(void* const handle)
{
  return ((ChUi*)handle)->scene.n_cables;
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
  const ChRect r  = ch_box_param_rect(&ui->scene.boxes[b], (uint32_t)p);
  float        wx = 0.0f;
  float        wy = 0.0f;
  ch_view_to_window(&ui->view, r.x + r.w * 0.5f, r.y + r.h * 0.5f, &wx, &wy);
  *x = (int)lroundf(wx * ui->scale);
  *y = (int)lroundf(wy * ui->scale);
  return wy > ui->view.top && *x >= 0 && *x < ui->width && *y < ui->height;
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

static const char*
error(void* const handle)
{
  return ((ChUi*)handle)->client.error;
}

static const char*
file(void* const handle)
{
  return ((ChUi*)handle)->client.file;
}

static int64_t
generation(void* const handle)
{
  return ((ChUi*)handle)->client.generation;
}

static unsigned
patches(void* const handle)
{
  return ((ChUi*)handle)->client.received;
}

static unsigned long
redraws(void* const handle)
{
  return ((ChUi*)handle)->redraws;
}

static float
level(void* const handle)
{
  return ((ChUi*)handle)->meter;
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

static float
zoom(void* const handle)
{
  return ((ChUi*)handle)->view.zoom;
}

const ChUiProbe ch_ui_probe = {
  .n_boxes     = n_boxes,
  .n_cables    = n_cables,
  .box_name    = box_name,
  .param_point = param_point,
  .param_value = param_value,
  .error       = error,
  .file        = file,
  .generation  = generation,
  .patches     = patches,
  .redraws     = redraws,
  .level       = level,
  .menu_point  = menu_point,
  .zoom        = zoom,
};
