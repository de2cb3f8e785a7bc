/* The UI test rig (rig.h): plugin through lilv, UI through dlopen as hosts
   load it, our window as its parent, XTest for input. */
#include "rig.h"

#include <lv2/atom/util.h>
#include <lv2/options/options.h>

#include <cairo/cairo.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>

static LV2_Atom_Sequence*
seq(uint64_t* const buf)
{
  return (LV2_Atom_Sequence*)buf;
}

/* An empty sequence to write messages into. */
static void
reset_control(Rig* const rig)
{
  LV2_Atom_Sequence* const c = seq(rig->control);
  c->atom.type               = rig->uris.atom_Sequence;
  c->atom.size               = sizeof(LV2_Atom_Sequence_Body);
  c->body.unit               = 0;
  c->body.pad                = 0;
}

/* A chunk for the plugin to fill with its answers. */
static void
reset_notify(Rig* const rig)
{
  LV2_Atom_Sequence* const n = seq(rig->notify);
  n->atom.type               = rig->atom_Chunk;
  n->atom.size               = RIG_SEQ_SIZE - sizeof(LV2_Atom);
}

/* Append `atom` to the control sequence at frame 0. */
static void
append(Rig* const rig, const LV2_Atom* const atom)
{
  LV2_Atom_Sequence* const c    = seq(rig->control);
  const uint32_t           need = sizeof(LV2_Atom_Event) + atom->size;
  if (sizeof(LV2_Atom) + c->atom.size + lv2_atom_pad_size(need) >
      RIG_SEQ_SIZE) {
    fprintf(stderr, "ui-host: control sequence full, message dropped\n");
    return;
  }
  LV2_Atom_Event* const ev =
    (LV2_Atom_Event*)((uint8_t*)c + sizeof(LV2_Atom) + c->atom.size);
  ev->time.frames = 0;
  memcpy(&ev->body, atom, sizeof(LV2_Atom) + atom->size);
  c->atom.size += lv2_atom_pad_size(need);
}

static void
ui_write(LV2UI_Controller  controller,
         const uint32_t    port,
         const uint32_t    size,
         const uint32_t    format,
         const void* const buf)
{
  Rig* const rig = (Rig*)controller;
  ++rig->ui_writes;
  if (port == 0 && format == rig->eventTransfer) {
    append(rig, (const LV2_Atom*)buf);
  } else if (format == 0 && size == sizeof(float) && port < RIG_N_PORTS) {
    rig_set_control(rig, port, *(const float*)buf);
  }
}

void
rig_set_control(Rig* const rig, const uint32_t port, const float value)
{
  rig->ctl[port] = value;
  for (int i = 0; i < RIG_MAX_UIS; ++i) {
    if (rig->ui[i].handle) {
      rig->ui_desc->port_event(rig->ui[i].handle, port, sizeof(float), 0,
                               &value);
    }
  }
}

void
rig_send(Rig* const rig, const ChMsg* const msg)
{
  static uint64_t buf[RIG_SEQ_SIZE / 16]; /* one thread */
  LV2_Atom_Forge  forge;
  lv2_atom_forge_init(&forge, &rig->host.map);
  lv2_atom_forge_set_buffer(&forge, (uint8_t*)buf, sizeof(buf));
  if (ch_msg_write(&forge, &rig->uris, msg)) {
    append(rig, (const LV2_Atom*)buf);
  } else {
    fprintf(stderr, "ui-host: message too big to send\n");
  }
}

void
rig_load_commit(Rig* const rig, const char* const text)
{
  ChMsg load    = ch_msg_init(CH_MSG_LOAD);
  load.text     = text;
  load.text_len = text ? (uint32_t)strlen(text) : 0u;
  rig_send(rig, &load);
  const ChMsg commit = ch_msg_init(CH_MSG_COMMIT);
  rig_send(rig, &commit);
}

void
rig_midi(Rig* const    rig,
         const uint8_t status,
         const uint8_t data1,
         const uint8_t data2)
{
  struct {
    LV2_Atom atom;
    uint8_t  bytes[8];
  } ev = { { 3, rig->uris.midi_Event }, { status, data1, data2 } };
  append(rig, &ev.atom);
}

/* Keep our own picture of the plugin's patch from its answers. */
static void
observe(Rig* const rig, const LV2_Atom* const atom, const uint32_t capacity)
{
  ChMsg      msg;
  ChMsgFault fault;
  if (ch_msg_read(&rig->uris, atom, capacity, &msg, &fault)) {
    return;
  }
  rig->echoes += msg.kind == CH_MSG_PARAM || msg.kind == CH_MSG_SET;
  if (msg.kind == CH_MSG_PATCH && msg.text) {
    ++rig->pieces;
    ch_client_piece(&rig->seen, msg.generation, msg.offset, msg.total, msg.text,
                    msg.text_len);
  } else if ((msg.kind == CH_MSG_PROPERTY || msg.kind == CH_MSG_PUT) &&
             msg.property == rig->uris.ch_patch && msg.text) {
    ch_client_piece(&rig->seen, rig->seen.newest, 0, msg.text_len, msg.text,
                    msg.text_len);
  } else if (msg.kind == CH_MSG_COMMITTED) {
    ch_client_committed(&rig->seen, msg.generation);
  }
}

void
rig_cycle(Rig* const rig)
{
  lilv_instance_run(rig->host.instance, RIG_BLOCK);
  reset_control(rig); /* consumed; the UIs may answer into it below */
  LV2_Atom_Sequence* const n = seq(rig->notify);
  if (n->atom.type != rig->uris.atom_Sequence) {
    n->atom.size = 0; /* the plugin wrote nothing */
  }
  LV2_ATOM_SEQUENCE_FOREACH(n, ev)
  {
    const uint32_t size = (uint32_t)sizeof(LV2_Atom) + ev->body.size;
    observe(rig, &ev->body, size);
    for (int i = 0; i < RIG_MAX_UIS; ++i) {
      if (rig->ui[i].handle) {
        rig->ui_desc->port_event(rig->ui[i].handle, 1, size, rig->eventTransfer,
                                 &ev->body);
      }
    }
  }
  reset_notify(rig);
  for (int i = 0; i < RIG_MAX_UIS; ++i) {
    if (rig->ui[i].handle && rig->ui[i].idle) {
      rig->ui[i].idle->idle(rig->ui[i].handle);
    }
  }
}

bool
rig_plugin_param(Rig* const        rig,
                 const char* const module,
                 const char* const param,
                 float* const      value)
{
  const ChMsg get      = ch_msg_init(CH_MSG_GET);
  rig->seen.have_patch = false;
  rig->seen.want_patch = false;
  rig_send(rig, &get);
  for (int i = 0; i < 200 && !rig->seen.have_patch; ++i) {
    rig_cycle(rig);
  }
  return rig->seen.have_patch &&
         !ch_model_get(rig->seen.model, module, param, value, NULL);
}

static bool
open_plugin(Rig* const rig, const char* const bundle)
{
  ch_host_init(&rig->host, "ui-host");
  const ChHostSettings settings = { .rate          = 48000,
                                    .max_block     = RIG_BLOCK,
                                    .nominal_block = RIG_BLOCK,
                                    .sequence_size = RIG_SEQ_SIZE };
  if (!ch_host_load(&rig->host, bundle, NULL) ||
      !ch_host_instantiate(&rig->host, &settings)) {
    return false;
  }
  ch_uris_map(&rig->uris, &rig->host.map);
  rig->atom_Chunk          = ch_host_map(&rig->host, LV2_ATOM__Chunk);
  rig->eventTransfer       = ch_host_map(&rig->host, LV2_ATOM__eventTransfer);
  LilvInstance* const inst = rig->host.instance;
  for (uint32_t p = 4; p < RIG_N_PORTS; ++p) {
    lilv_instance_connect_port(inst, p, &rig->ctl[p]);
  }
  rig->ctl[14] = 1.0f; /* limiter on, as the plugin's default */
  lilv_instance_connect_port(inst, 0, rig->control);
  lilv_instance_connect_port(inst, 1, rig->notify);
  lilv_instance_connect_port(inst, 2, rig->out[0]);
  lilv_instance_connect_port(inst, 3, rig->out[1]);
  reset_control(rig);
  reset_notify(rig);
  lilv_instance_activate(inst);
  return ch_client_init(&rig->seen);
}

/* The UI library, found through lilv as hosts find it. */
static bool
open_ui_lib(Rig* const rig)
{
  LilvUIs* const uis = lilv_plugin_get_uis(rig->host.plugin);
  bool           ok  = false;
  LILV_FOREACH(uis, i, uis)
  {
    const LilvUI* const ui = lilv_uis_get(uis, i);
    char* const         path =
      lilv_file_uri_parse(lilv_node_as_uri(lilv_ui_get_binary_uri(ui)), NULL);
    rig->ui_bundle =
      lilv_file_uri_parse(lilv_node_as_uri(lilv_ui_get_bundle_uri(ui)), NULL);
    rig->ui_lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    lilv_free(path);
    LV2UI_DescriptorFunction f = NULL;
    if (rig->ui_lib) {
      /* POSIX allows this conversion; ISO C does not name it. */
      void* const sym = dlsym(rig->ui_lib, "lv2ui_descriptor");
      memcpy(&f, &sym, sizeof(f));
    }
    rig->ui_desc = f ? f(0) : NULL;
    ok           = rig->ui_desc != NULL;
    break;
  }
  lilv_uis_free(uis);
  if (!ok) {
    fprintf(stderr, "ui-host: no UI found (%s)\n", dlerror());
  }
  return ok;
}

bool
rig_open(Rig* const rig, const char* const bundle)
{
  if (!open_plugin(rig, bundle) || !open_ui_lib(rig)) {
    return false;
  }
  rig->dpy = XOpenDisplay(NULL);
  if (!rig->dpy) {
    fprintf(stderr, "ui-host: no X display\n");
    return false;
  }
  rig->width  = (int)(960 * (rig->scale > 0 ? rig->scale : 1.0f));
  rig->height = (int)(600 * (rig->scale > 0 ? rig->scale : 1.0f));
  rig->top =
    XCreateSimpleWindow(rig->dpy, DefaultRootWindow(rig->dpy), 0, 0,
                        (unsigned)rig->width, (unsigned)rig->height, 0, 0, 0);
  XStoreName(rig->dpy, rig->top, "ui-host");
  XMapRaised(rig->dpy, rig->top);
  XSync(rig->dpy, False);
  return true;
}

static int
ui_resize(LV2UI_Feature_Handle handle, const int width, const int height)
{
  RigUi* const ui = (RigUi*)handle;
  ui->asked_w     = width;
  ui->asked_h     = height;
  return 0;
}

bool
rig_ui_open(Rig* const rig, const int i)
{
  RigUi* const             ui     = &rig->ui[i];
  LV2UI_Resize             resize = { ui, ui_resize };
  const LV2_URID           scale = ch_host_map(&rig->host, LV2_UI__scaleFactor);
  const LV2_Options_Option options[] = {
    { LV2_OPTIONS_INSTANCE, 0, scale, sizeof(float), rig->uris.atom_Float,
      &rig->scale },
    { LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL },
  };
  const LV2_Feature f_map    = { LV2_URID__map, &rig->host.map };
  const LV2_Feature f_parent = { LV2_UI__parent, (void*)(uintptr_t)rig->top };
  const LV2_Feature f_resize = { LV2_UI__resize, &resize };
  const LV2_Feature f_idle   = { LV2_UI__idleInterface, NULL };
  const LV2_Feature f_opts   = {
      LV2_OPTIONS__options, (void*)(rig->scale > 0 ? options : options + 1)
  };
  const LV2_Feature* features[] = { &f_map,  &f_parent, &f_resize,
                                    &f_idle, &f_opts,   NULL };
  LV2UI_Widget       widget     = NULL;
  ui->handle =
    rig->ui_desc->instantiate(rig->ui_desc, CH_PLUGIN_URI, rig->ui_bundle,
                              ui_write, rig, &widget, features);
  if (!ui->handle) {
    return false;
  }
  ui->widget = (Window)(uintptr_t)widget;
  ui->idle   = (const LV2UI_Idle_Interface*)rig->ui_desc->extension_data(
      LV2_UI__idleInterface);
  ui->probe = (const ChUiProbe*)rig->ui_desc->extension_data(CH_UI_PROBE_URI);
  rig_set_control(rig, 5, rig->ctl[5]); /* hosts send port values on open */
  return ui->idle && ui->probe;
}

void
rig_ui_close(Rig* const rig, const int i)
{
  if (rig->ui[i].handle) {
    rig->ui_desc->cleanup(rig->ui[i].handle);
  }
  memset(&rig->ui[i], 0, sizeof(RigUi));
}

void
rig_close(Rig* const rig)
{
  for (int i = 0; i < RIG_MAX_UIS; ++i) {
    rig_ui_close(rig, i);
  }
  if (rig->dpy) {
    XDestroyWindow(rig->dpy, rig->top);
    XCloseDisplay(rig->dpy);
  }
  if (rig->ui_lib) {
    dlclose(rig->ui_lib);
  }
  lilv_free(rig->ui_bundle);
  if (rig->host.instance) {
    lilv_instance_deactivate(rig->host.instance);
  }
  ch_client_free(&rig->seen);
  ch_host_clear(&rig->host);
}

/* ---- Pictures and input ----------------------------------------------------
 */

void
rig_resize(Rig* const rig, const int width, const int height)
{
  rig->width  = width;
  rig->height = height;
  XResizeWindow(rig->dpy, rig->top, (unsigned)width, (unsigned)height);
  for (int i = 0; i < RIG_MAX_UIS; ++i) {
    if (rig->ui[i].handle) {
      XResizeWindow(rig->dpy, rig->ui[i].widget, (unsigned)width,
                    (unsigned)height);
    }
  }
  XSync(rig->dpy, False);
}

static XImage*
grab(Rig* const rig)
{
  XSync(rig->dpy, False);
  return XGetImage(rig->dpy, rig->top, 0, 0, (unsigned)rig->width,
                   (unsigned)rig->height, AllPlanes, ZPixmap);
}

bool
rig_screenshot(Rig* const rig, const char* const path)
{
  XImage* const img = grab(rig);
  if (!img) {
    return false;
  }
  cairo_surface_t* const s =
    cairo_image_surface_create(CAIRO_FORMAT_RGB24, rig->width, rig->height);
  uint8_t* const data   = cairo_image_surface_get_data(s);
  const int      stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < rig->height; ++y) {
    for (int x = 0; x < rig->width; ++x) {
      ((uint32_t*)(data + (size_t)y * (size_t)stride))[x] =
        (uint32_t)XGetPixel(img, x, y) & 0xffffffu;
    }
  }
  cairo_surface_mark_dirty(s);
  const bool ok = cairo_surface_write_to_png(s, path) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(s);
  XDestroyImage(img);
  return ok;
}

unsigned long
rig_count_colour(Rig* const rig, const uint32_t rgb, const int tol)
{
  XImage* const img = grab(rig);
  unsigned long n   = 0;
  for (int y = 0; img && y < rig->height; ++y) {
    for (int x = 0; x < rig->width; ++x) {
      const unsigned long p  = XGetPixel(img, x, y);
      int                 ok = 1;
      for (int sh = 0; sh < 24; sh += 8) {
        const int a = (int)((p >> sh) & 0xff);
        const int b = (int)((rgb >> sh) & 0xff);
        ok          = ok && abs(a - b) <= tol;
      }
      n += (unsigned long)ok;
    }
  }
  if (img) {
    XDestroyImage(img);
  }
  return n;
}

void
rig_move(Rig* const rig, const int x, const int y)
{
  int    rx    = 0;
  int    ry    = 0;
  Window child = 0;
  XTranslateCoordinates(rig->dpy, rig->top, DefaultRootWindow(rig->dpy), x, y,
                        &rx, &ry, &child);
  XTestFakeMotionEvent(rig->dpy, -1, rx, ry, CurrentTime);
  XSync(rig->dpy, False);
}

void
rig_button(Rig* const rig, const unsigned button, const bool down)
{
  XTestFakeButtonEvent(rig->dpy, button, down, CurrentTime);
  XSync(rig->dpy, False);
}

void
rig_key(Rig* const rig, const char* const keysym, const bool shift)
{
  const KeyCode shift_code = XKeysymToKeycode(rig->dpy, XK_Shift_L);
  const KeyCode code = XKeysymToKeycode(rig->dpy, XStringToKeysym(keysym));
  if (shift) {
    XTestFakeKeyEvent(rig->dpy, shift_code, True, CurrentTime);
  }
  XTestFakeKeyEvent(rig->dpy, code, True, CurrentTime);
  XTestFakeKeyEvent(rig->dpy, code, False, CurrentTime);
  if (shift) {
    XTestFakeKeyEvent(rig->dpy, shift_code, False, CurrentTime);
  }
  XSync(rig->dpy, False);
}

void
rig_ctrl_key(Rig* const rig, const char* const keysym, const bool shift)
{
  const KeyCode ctrl = XKeysymToKeycode(rig->dpy, XK_Control_L);
  XTestFakeKeyEvent(rig->dpy, ctrl, True, CurrentTime);
  rig_key(rig, keysym, shift);
  XTestFakeKeyEvent(rig->dpy, ctrl, False, CurrentTime);
  XSync(rig->dpy, False);
}

void
rig_shift(Rig* const rig, const bool down)
{
  XTestFakeKeyEvent(rig->dpy, XKeysymToKeycode(rig->dpy, XK_Shift_L), down,
                    CurrentTime);
  XSync(rig->dpy, False);
}
