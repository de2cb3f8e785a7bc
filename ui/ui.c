/* The LV2 UI (ui:X11UI): its window inside the host's, the X event loop
   run from the host's idle calls, and the LV2 entry points. */
#include "ui.h"

#include "probe.h"

#include <lv2/atom/util.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xresource.h>

/* Scale from the host's ui:scaleFactor, else from Xft.dpi, else 1. */
static float
find_scale(Display* const                  dpy,
           const LV2_Options_Option* const options,
           const LV2_URID                  scale_urid,
           const LV2_URID                  float_urid)
{
  for (const LV2_Options_Option* o = options; o && o->key; ++o) {
    if (o->key == scale_urid && o->type == float_urid && o->value) {
      const float s = *(const float*)o->value;
      if (s >= 0.5f && s <= 4.0f) {
        return s;
      }
    }
  }
  const char* const resources = XResourceManagerString(dpy);
  float             scale     = 1.0f;
  if (resources) {
    XrmInitialize();
    XrmDatabase const db   = XrmGetStringDatabase(resources);
    char*             type = NULL;
    XrmValue          value;
    if (db && XrmGetResource(db, "Xft.dpi", "Xft.Dpi", &type, &value) &&
        value.addr) {
      const float dpi = strtof(value.addr, NULL);
      if (dpi >= 48.0f && dpi <= 384.0f) {
        scale = dpi / 96.0f;
      }
    }
    if (db) {
      XrmDestroyDatabase(db);
    }
  }
  return scale;
}

/* Size hints for hosts that size the embedding from them (suil). */
static void
set_hints(ChUi* const ui)
{
  XSizeHints* const hints = XAllocSizeHints();
  if (!hints) {
    return;
  }
  hints->flags       = PMinSize | PBaseSize;
  hints->min_width   = (int)lroundf(CH_UI_MIN_WIDTH * ui->scale);
  hints->min_height  = (int)lroundf(CH_UI_MIN_HEIGHT * ui->scale);
  hints->base_width  = ui->width;
  hints->base_height = ui->height;
  XSetWMNormalHints(ui->dpy, ui->win, hints);
  XFree(hints);
}

static void
update_view_area(ChUi* const ui)
{
  ui->view.left   = 0.0f;
  ui->view.top    = CH_HEADER_H;
  ui->view.width  = (float)ui->width / ui->scale;
  ui->view.height = fmaxf((float)ui->height / ui->scale - CH_HEADER_H, 1.0f);
}

static bool
open_window(ChUi* const ui, const Window parent)
{
  const int screen = DefaultScreen(ui->dpy);
  ui->win          = XCreateSimpleWindow(
             ui->dpy, parent ? parent : RootWindow(ui->dpy, screen), 0, 0,
             (unsigned)ui->width, (unsigned)ui->height, 0, BlackPixel(ui->dpy, screen),
             BlackPixel(ui->dpy, screen));
  XSelectInput(ui->dpy, ui->win,
               ExposureMask | StructureNotifyMask | ButtonPressMask |
                 ButtonReleaseMask | PointerMotionMask | KeyPressMask |
                 FocusChangeMask | LeaveWindowMask);
  ui->wm_delete = XInternAtom(ui->dpy, "WM_DELETE_WINDOW", False);
  XSetWMProtocols(ui->dpy, ui->win, &ui->wm_delete, 1);
  XStoreName(ui->dpy, ui->win, "Chronus");
  set_hints(ui);
  ui->surface = cairo_xlib_surface_create(
    ui->dpy, ui->win, DefaultVisual(ui->dpy, screen), ui->width, ui->height);
  XMapRaised(ui->dpy, ui->win);
  XFlush(ui->dpy); /* so that the hints reach the host while it embeds */
  return cairo_surface_status(ui->surface) == CAIRO_STATUS_SUCCESS;
}

static void
cleanup(LV2UI_Handle handle)
{
  ChUi* const ui = (ChUi*)handle;
  if (ui->back) {
    cairo_surface_destroy(ui->back);
  }
  if (ui->surface) {
    /* Cairo keeps glyphs and more per display: let go of them before the
       display closes, or a later instance trips over them. */
    cairo_device_t* const device = cairo_surface_get_device(ui->surface);
    cairo_surface_destroy(ui->surface);
    if (device) {
      cairo_device_finish(device);
    }
  }
  if (ui->dpy) {
    if (ui->win) {
      XDestroyWindow(ui->dpy, ui->win);
    }
    XCloseDisplay(ui->dpy);
  }
  pango_font_description_free(ui->font);
  pango_font_description_free(ui->font_bold);
  pango_font_description_free(ui->font_small);
  ch_scene_clear(&ui->scene);
  ch_model_free(ui->preview);
  free(ui->want_chosen);
  ch_client_free(&ui->client);
  free(ui);
}

static void
read_features(ChUi* const                     ui,
              const LV2_Feature* const* const features,
              Window* const                   parent,
              const LV2_Options_Option**      options)
{
  for (int i = 0; features && features[i]; ++i) {
    const char* const uri = features[i]->URI;
    if (!strcmp(uri, LV2_URID__map)) {
      ui->map = (LV2_URID_Map*)features[i]->data;
    } else if (!strcmp(uri, LV2_UI__parent)) {
      *parent = (Window)(uintptr_t)features[i]->data;
    } else if (!strcmp(uri, LV2_UI__resize)) {
      ui->resize = (const LV2UI_Resize*)features[i]->data;
    } else if (!strcmp(uri, LV2_OPTIONS__options)) {
      *options = (const LV2_Options_Option*)features[i]->data;
    }
  }
}

static void
make_fonts(ChUi* const ui)
{
  ui->font       = pango_font_description_from_string("Sans 8.5");
  ui->font_bold  = pango_font_description_from_string("Sans Bold 9.5");
  ui->font_small = pango_font_description_from_string("Sans 7.5");
}

/* URIDs, fonts, the bank's names, and nothing pointed at yet. */
static void
setup(ChUi* const ui, const char* const bundle_path)
{
  ui->focus.box      = -1;
  ui->drag_param.box = -1;
  ui->hover.box      = -1;
  ui->selected_box   = -1;
  ui->selected_cable = -1;
  ui->renaming       = -1;
  ui->editing.box    = -1;
  ui->last_title_box = -1;
  ui->cable_old      = -1;
  ch_uris_map(&ui->uris, ui->map);
  ui->atom_eventTransfer =
    ui->map->map(ui->map->handle, LV2_ATOM__eventTransfer);
  lv2_atom_forge_init(&ui->forge, ui->map);
  make_fonts(ui);
  char bank[CH_PATH_MAX];
  snprintf(bank, sizeof(bank), "%sbank", bundle_path ? bundle_path : "");
  ch_client_read_bank(&ui->client, bank);
}

static LV2UI_Handle
instantiate(const LV2UI_Descriptor* const   descriptor,
            const char* const               plugin_uri,
            const char* const               bundle_path,
            const LV2UI_Write_Function      write_function,
            const LV2UI_Controller          controller,
            LV2UI_Widget* const             widget,
            const LV2_Feature* const* const features)
{
  (void)descriptor;
  (void)plugin_uri;
  ChUi* const ui = (ChUi*)calloc(1, sizeof(ChUi));
  if (!ui) {
    return NULL;
  }
  Window                    parent  = 0;
  const LV2_Options_Option* options = NULL;
  read_features(ui, features, &parent, &options);
  ui->write      = write_function;
  ui->controller = controller;
  if (!ui->map || !ch_client_init(&ui->client)) {
    fprintf(stderr, "chronus ui: %s\n",
            ui->map ? "out of memory" : "the host gives no urid:map");
    ch_client_free(&ui->client);
    free(ui);
    return NULL;
  }
  setup(ui, bundle_path);

  /* Our own connection: the host's is not ours to use. */
  ui->dpy = XOpenDisplay(NULL);
  if (!ui->dpy) {
    fprintf(stderr, "chronus ui: cannot open the X display\n");
    cleanup(ui);
    return NULL;
  }
  ui->scale  = find_scale(ui->dpy, options,
                          ui->map->map(ui->map->handle, LV2_UI__scaleFactor),
                          ui->uris.atom_Float);
  ui->width  = (int)lroundf(CH_UI_WIDTH * ui->scale);
  ui->height = (int)lroundf(CH_UI_HEIGHT * ui->scale);
  update_view_area(ui);
  ui->view.zoom = 1.0f;
  if (!open_window(ui, parent)) {
    cleanup(ui);
    return NULL;
  }
  *widget = (LV2UI_Widget)(uintptr_t)ui->win;
  if (ui->resize) {
    ui->resize->ui_resize(ui->resize->handle, ui->width, ui->height);
  }
  ui->dirty = true;
  ch_ui_send_get(ui); /* Ardour sends no patch:Get of its own */
  return ui;
}

static void
port_event(LV2UI_Handle      handle,
           const uint32_t    port,
           const uint32_t    size,
           const uint32_t    format,
           const void* const buffer)
{
  ChUi* const ui = (ChUi*)handle;
  if (port == CH_UI_PORT_NOTIFY && format == ui->atom_eventTransfer) {
    ch_ui_notify(ui, (const LV2_Atom*)buffer, size);
  } else if (port == CH_UI_PORT_PROGRAM && format == 0 &&
             size == sizeof(float)) {
    const float program = *(const float*)buffer;
    if (program != ui->client.program) {
      ch_client_program(&ui->client, program);
      ui->dirty = true;
    }
  }
}

static void
on_configure(ChUi* const ui, const XConfigureEvent* const ev)
{
  if (ev->width == ui->width && ev->height == ui->height) {
    return;
  }
  ui->width  = ev->width;
  ui->height = ev->height;
  cairo_xlib_surface_set_size(ui->surface, ui->width, ui->height);
  update_view_area(ui);
  ui->dirty = true;
}

static void
handle_event(ChUi* const ui, XEvent* const ev)
{
  switch (ev->type) {
  case Expose:
    ui->dirty = ui->dirty || ev->xexpose.count == 0;
    break;
  case ConfigureNotify:
    on_configure(ui, &ev->xconfigure);
    break;
  case ButtonPress:
    ch_ui_button_press(ui, &ev->xbutton);
    break;
  case ButtonRelease:
    ch_ui_button_release(ui, &ev->xbutton);
    break;
  case MotionNotify:
    /* Only the newest position matters. */
    while (XCheckTypedWindowEvent(ui->dpy, ui->win, MotionNotify, ev)) {
    }
    ch_ui_motion(ui, &ev->xmotion);
    break;
  case KeyPress:
    ch_ui_key(ui, &ev->xkey);
    break;
  case FocusIn:
  case FocusOut:
    ui->focused = ev->type == FocusIn;
    ui->dirty   = true;
    break;
  case LeaveNotify:
    if (ui->hover.box >= 0) {
      ui->hover.box = -1;
      ui->dirty     = true;
    }
    break;
  default:
    break;
  }
}

static int
idle(LV2UI_Handle handle)
{
  ChUi* const ui = (ChUi*)handle;
  while (XPending(ui->dpy)) {
    XEvent ev;
    XNextEvent(ui->dpy, &ev);
    handle_event(ui, &ev);
  }
  ch_ui_ask_level(ui); /* the meter follows the host's idle rate */
  ch_ui_scope_idle(ui);
  ch_ui_activity_idle(ui);
  if (ui->dirty) {
    ui->dirty = false;
    ch_ui_draw(ui);
    ++ui->redraws;
  }
  return 0;
}

/* The host resizes us (Qtractor, Carla). */
static int
host_resize(LV2UI_Feature_Handle handle, const int width, const int height)
{
  ChUi* const ui = (ChUi*)handle;
  XResizeWindow(ui->dpy, ui->win, (unsigned)width, (unsigned)height);
  XFlush(ui->dpy);
  return 0;
}

static const void*
extension_data(const char* const uri)
{
  static const LV2UI_Idle_Interface idle_iface   = { idle };
  static const LV2UI_Resize         resize_iface = { NULL, host_resize };
  if (!strcmp(uri, LV2_UI__idleInterface)) {
    return &idle_iface;
  }
  if (!strcmp(uri, LV2_UI__resize)) {
    return &resize_iface;
  }
  if (!strcmp(uri, CH_UI_PROBE_URI)) {
    return &ch_ui_probe;
  }
  return NULL;
}

static const LV2UI_Descriptor descriptor = {
  CH_UI_URI, instantiate, cleanup, port_event, extension_data,
};

__attribute__((visibility("default"))) const LV2UI_Descriptor*
lv2ui_descriptor(const uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
